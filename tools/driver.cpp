// The `chassis` command line: a thin driver over the libraries. Subcommands register themselves
// (command.h); this file only parses the command line and dispatches. main() (main.cpp) calls
// runDriver, and so does the command-line fuzzer (tests/fuzz/fuzz_cli.cpp).
#include "tools/cli_docs.h"
#include "tools/command.h"
#include "tools/driver.h"
#include "tools/json_report.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <new>
#include <set>

namespace chassis::tools {
std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}
} // namespace chassis::tools

namespace chassis::tools {

/// One rule for every subcommand: a seed, a count (samples, chains, epochs, threads, ...) or a
/// time or memory limit is never negative. A negative value is refused by the parser with
/// "--NAME: must not be negative, got -1" (exit 2) instead of wrapping round to a huge unsigned
/// number or meaning "no limit".
void refuseNegativeCounts(CLI::App& app) {
  static const std::set<std::string> names = {
      "seed",     "timeout", "samples",       "time-limit", "memory",    "faith-timeout",
      "chains",   "warmup",  "thin",          "epochs",     "batch",     "patience",
      "threads",  "max-depth"};
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    for (CLI::Option* opt : sub->get_options())
      for (const std::string& n : opt->get_lnames())
        if (names.count(n)) {
          opt->check(CLI::Validator(
              [n](std::string& v) -> std::string {
                return !v.empty() && v[0] == '-' ? "must not be negative, got " + v
                                                 : std::string();
              },
              "", "non-negative"));
          break;
        }
}

int runDriver(int argc, char** argv, const RunFilter& mayRun) {
  CLI::App app{"chassis: verifiable modular probabilistic programs, networks and their "
               "compositions"};
  // One subcommand, or one of the documentation flags (--man, --completion) alone.
  app.require_subcommand(0, 1);
  bool man = false;
  std::string completion;
  app.add_flag("--man", man, "print the manual page (roff) and exit");
  app.add_option("--completion", completion, "print a completion script for this shell and exit")
      ->check(CLI::IsMember({"bash"}));
  app.set_version_flag("--version", std::string("chassis ") + kVersion);
  auto cmds = registry();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::map<CLI::App*, Runner> runners;
  for (auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    runners[sub] = c.setup(*sub);
  }
  refuseNegativeCounts(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kOk : kUsage;
  }
  // The one exception boundary: whatever a subcommand throws becomes a diagnostic and one of
  // the documented exit codes (command.h), never an abort. A file-system error is about a path
  // the user gave (kUsage); running out of memory means the input or options ask for more than
  // the machine has (kUsage); anything else is a bug (kInternal).
  if (man || !completion.empty()) {
    std::cout << (man ? manPage(app) : bashCompletion(app));
    return kOk;
  }
  if (app.get_subcommands().empty()) {
    std::cerr << "A subcommand is required\nRun with --help for more information.\n";
    return kUsage;
  }
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return !mayRun || mayRun(sub->get_name()) ? run() : kOk;
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
