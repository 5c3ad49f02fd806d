// Subcommand registration for the `chassis` driver. Each cmd_*.cpp defines one subcommand:
//
//   static chassis::tools::Registration reg{"check", "Parse and type-check a .chs file",
//       [](CLI::App& app) { ...add options...; return [=]() -> int { ...run...; }; }};
//
// `setup` adds the subcommand's options to `app` and returns the function that runs it once the
// command line is parsed; that function returns the process exit code (see ExitCode).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace chassis::tools {

/// Exit codes shared by every subcommand, so scripts can rely on them.
enum ExitCode : int {
  kOk = 0,          // success; for verify: every property holds
  kFailure = 1,     // the job ran and found something false: a property violated, an assert failed
  kUsage = 2,       // bad command line, bad input file, bad option: a diagnostic was printed
  kUnknown = 3,     // verify: some property undecided (timeout, unsupported), none violated
  kInternal = 4,    // a bug in Chassis (e.g. a counterexample that does not replay)
  // A long run stopped early (spec/run_control.h, tools/run_limits.h): what was decided so far is
  // printed, no result file is written.
  kMemoryLimit = 5,   // --memory MB exceeded (resident set size)
  kTimeLimit = 124,   // --time-limit S (overall) reached, as timeout(1)
  kInterrupted = 130, // SIGINT (Ctrl-C); SIGTERM gives 143 (128 + the signal, as a shell would)
};

using Runner = std::function<int()>;
using Setup = std::function<Runner(CLI::App&)>;

struct Command {
  std::string name, description;
  Setup setup;
};

std::vector<Command>& registry();

struct Registration {
  Registration(std::string name, std::string description, Setup setup) {
    registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

} // namespace chassis::tools
