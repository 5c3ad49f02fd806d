// `chassis check FILE [--emit=ast|ir] [--data file.json] [--input name=value]...`: parse and
// type-check a .chs file and everything it imports; the data fixes the sizes written as an int
// input's name (`y: real[T]`), as it does for `run` and `infer`. Success: exit 0, print nothing (or, with --emit=ast, the checked AST dump on stdout;
// with --emit=ir, the program lowered to the core IR).
// Errors: every diagnostic on stderr (`file:line:col: error: message`, the source line and a
// caret), exit 2 (kUsage).
#include "tools/command.h"

#include "spec/ast_printer.h"
#include "spec/frontend.h"
#include "spec/ir.h"
#include "spec/lower.h"

#include <fstream>
#include <iostream>
#include <sstream>

namespace {

chassis::tools::Registration reg{
    "check", "Parse and type-check a .chs file (and its imports)", [](CLI::App& app) {
      auto file = std::make_shared<std::string>();
      auto emit = std::make_shared<std::string>();
      auto data = std::make_shared<std::string>();
      auto inputs = std::make_shared<std::vector<std::string>>();
      app.add_option("file", *file, "the .chs file")->required();
      app.add_option("--emit", *emit, "print a stage: ast (the checked AST) or ir (the core IR)")
          ->check(CLI::IsMember({"ast", "ir"}));
      app.add_option("--data", *data, "a JSON object giving the sizes (int inputs) by name");
      app.add_option("--input", *inputs, "name=value: an int input that gives a size");
      return [file, emit, data, inputs]() -> int {
        using namespace chassis;
        spec::DiagnosticEngine diags;
        spec::DataSizes sizes;
        if (!data->empty()) {
          std::ifstream in(*data, std::ios::binary);
          if (!in) {
            diags.report(Error("cannot read data file '" + *data + "'"));
            diags.print(std::cerr);
            return tools::kUsage;
          }
          std::stringstream ss;
          ss << in.rdbuf();
          const std::string text = ss.str();
          diags.addSource(*data, text);
          auto read = spec::readDataSizes(text, *data);
          if (!read) {
            diags.report(read.error());
            diags.print(std::cerr);
            return tools::kUsage;
          }
          sizes = std::move(*read);
        }
        for (const std::string& arg : *inputs)
          if (auto eq = arg.find('='); eq != std::string::npos)
            spec::addInputSize(sizes, arg.substr(0, eq), std::string_view(arg).substr(eq + 1));
        Expected<spec::Program> prog = spec::loadProgram(*file, diags, &sizes);
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
