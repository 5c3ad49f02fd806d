// Overall limits of long subcommands (see run_limits.h).
#include "tools/run_limits.h"

#include "tools/command.h"

#include <csignal>
#include <iostream>

namespace chassis::tools {

void addRunLimitOptions(CLI::App& app, run::Limits& limits, bool timeoutIsOverall) {
  std::string names = timeoutIsOverall ? "--time-limit,--timeout" : "--time-limit";
  app.add_option(names, limits.timeLimitSec,
                 "overall time limit in seconds for the whole run: when reached, print what is "
                 "decided so far, write no result file, exit 124 (default: none)");
  app.add_option("--memory", limits.memoryMb,
                 "memory limit in MiB (resident set size, polled): when exceeded, stop as for "
                 "--time-limit with exit code 5 (default: none). SIGINT / SIGTERM stop the "
                 "same way with exit code 130 / 143");
  // A negative value is refused by the driver, as for every limit and count (driver.cpp).
}

int stopExitCode() {
  switch (run::stopReason()) {
  case run::StopReason::Interrupted:
    return run::stopSignal() == SIGTERM ? 128 + SIGTERM : kInterrupted;
  case run::StopReason::Timeout:
    return kTimeLimit;
  case run::StopReason::Memory:
    return kMemoryLimit;
  case run::StopReason::None:
    break;
  }
  return kOk;
}

int runLimited(const std::string& name, const run::Limits& limits,
               const std::function<int()>& command) {
  run::RunSession session(limits);
  int rc;
  try {
    rc = command();
  } catch (const run::Stopped&) {
    rc = kOk; // reported below
  }
  if (!run::stopRequested()) return rc;
  std::cerr << "chassis " << name << ": stopped: " << run::stopMessage() << "\n";
  return stopExitCode();
}

} // namespace chassis::tools
