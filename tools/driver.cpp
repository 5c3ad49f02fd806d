// The `chassis` command line: a thin driver over the libraries. Subcommands register themselves
// (command.h); this file only parses the command line and dispatches. main() (main.cpp) calls
// runDriver, and so does the command-line fuzzer (tests/fuzz/fuzz_cli.cpp).
#include "tools/command.h"
#include "tools/driver.h"
#include "tools/mpi_world.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <new>

namespace chassis::tools {
std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}
} // namespace chassis::tools

namespace chassis::tools {
int runDriver(int argc, char** argv, const RunFilter& mayRun) {
  CLI::App app{"chassis: verifiable modular probabilistic programs, networks and their "
               "compositions"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "chassis 0.1.0" + mpi::versionNote());
  auto cmds = registry();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::map<CLI::App*, Runner> runners;
  for (auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    runners[sub] = c.setup(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (mpi::launchedAsWorker()) return e.get_exit_code() == 0 ? kOk : kUsage; // rank 0 says it
    int rc = app.exit(e);
    return rc == 0 ? kOk : kUsage;
  }
  // The one exception boundary: whatever a subcommand throws becomes a diagnostic and one of
  // the documented exit codes (command.h), never an abort. A file-system error is about a path
  // the user gave (kUsage); running out of memory means the input or options ask for more than
  // the machine has (kUsage); anything else is a bug (kInternal).
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) {
        mpi::CommandScope ranks(*sub); // under mpirun: tools/mpi_world.h
        if (ranks.exitCode()) return *ranks.exitCode();
        return ranks.finish(!mayRun || mayRun(sub->get_name()) ? run() : kOk);
      }
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "chassis: error: " << e.what() << "\n";
    return kUsage;
  } catch (const std::bad_alloc&) {
    std::cerr << "chassis: error: out of memory: the input or the options need more memory than "
                 "is available\n";
    return kUsage;
  } catch (const std::exception& e) {
    std::cerr << "chassis: internal error: " << e.what() << "\n";
    return kInternal;
  } catch (...) {
    std::cerr << "chassis: internal error: an unknown exception\n";
    return kInternal;
  }
  return kUsage;
}
} // namespace chassis::tools
