// `chassis check FILE [--emit=ast|ir]`: parse and type-check a .chs file and everything it
// imports. Success: exit 0, print nothing (or, with --emit=ast, the checked AST dump on stdout;
// with --emit=ir, the program lowered to the core IR).
// Errors: every diagnostic on stderr (`file:line:col: error: message`, the source line and a
// caret), exit 2 (kUsage).
#include "tools/command.h"

#include "spec/ast_printer.h"
#include "spec/frontend.h"
#include "spec/ir.h"
#include "spec/lower.h"

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
          // ---- --emit=ir: the IR engineer's lowering (spec/lower.h) and printer (spec/ir.h).
          // Networks lower to External functions here (no loader: `check` does not read them).
          Expected<ir::Program> lowered = ir::lower(*prog);
          if (!lowered) {
            diags.report(lowered.error());
            diags.print(std::cerr);
            return tools::kUsage;
          }
          ir::print(*lowered, std::cout);
        }
        return tools::kOk;
      };
    }};

} // namespace
