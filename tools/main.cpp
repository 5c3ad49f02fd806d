// The `chassis` command: a thin driver over the libraries. Subcommands register themselves
// (command.h); this file only parses the command line and dispatches.
#include "tools/command.h"

#include <algorithm>
#include <iostream>
#include <map>

namespace chassis::tools {
std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}
} // namespace chassis::tools

int main(int argc, char** argv) {
  using namespace chassis::tools;
  CLI::App app{"chassis: verifiable modular probabilistic programs, networks and their "
               "compositions"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "chassis 0.1.0");
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
    int rc = app.exit(e);
    return rc == 0 ? kOk : kUsage;
  }
  for (auto& [sub, run] : runners)
    if (sub->parsed()) return run();
  return kUsage;
}
