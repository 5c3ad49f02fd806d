// `chassis check FILE [--emit=ast|ir]`: parse and type-check a .chs file and everything it
// imports. Success: exit 0, print nothing (or, with --emit=ast, the checked AST dump on stdout).
// Errors: every diagnostic on stderr (`file:line:col: error: message`, the source line and a
// caret), exit 2 (kUsage).
#include "tools/command.h"

#include "spec/ast_printer.h"
#include "spec/frontend.h"

#include <iostream>

namespace {

chassis::tools::Registration reg{
    "check", "Parse and type-check a .chs file (and its imports)", [](CLI::App& app) {
      auto file = std::make_shared<std::string>();
      auto emit = std::make_shared<std::string>();
      app.add_option("file", *file, "the .chs file")->required();
      app.add_option("--emit", *emit, "print a stage: ast (the checked AST) or ir (the core IR)")
          ->check(CLI::IsMember({"ast", "ir"}));
      return [file, emit]() -> int {
        using namespace chassis;
        spec::DiagnosticEngine diags;
        Expected<spec::Program> prog = spec::loadProgram(*file, diags);
        if (!prog) {
          diags.print(std::cerr);
          return tools::kUsage;
        }
        if (*emit == "ast") {
          std::cout << spec::printProgram(*prog);
        } else if (*emit == "ir") {
          // ---- INTEGRATOR: wire --emit=ir here -------------------------------------------
          // Lower the checked program with the IR engineer's lower() (spec/lower.h) and print
          // it with the IR printer, e.g.:
          //     auto ir = spec::lower(*prog, diags); if (!ir) { diags.print(std::cerr); return 2; }
          //     std::cout << spec::print(*ir);
          // Until then:
          std::cerr << "error: --emit=ir is not available yet\n";
          return tools::kUsage;
        }
        return tools::kOk;
      };
    }};

} // namespace
