// Loading a .chs model and binding its inputs (see model_input.h).
#include "tools/model_input.h"

#include "neural/lower_network.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "tools/command.h"

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace chassis::tools {

int loadModel(const std::string& file, const std::string& module,
              const std::vector<std::string>& inputs, const std::string& dataFile,
              spec::DiagnosticEngine& diags, LoadedModel& out,
              const std::vector<std::pair<std::string, std::string>>& preset) {
  auto fail = [&](const Error& e) {
    diags.report(e);
    diags.print(std::cerr);
    return kUsage;
  };
  // The data fixes the sizes written as names (`y: real[T]`) before checking.
  std::string dataText;
  spec::DataSizes sizes;
  if (!dataFile.empty()) {
    std::ifstream in(dataFile, std::ios::binary);
    if (!in) return fail(Error("cannot read data file '" + dataFile + "'"));
    std::stringstream ss;
    ss << in.rdbuf();
    dataText = ss.str();
    diags.addSource(dataFile, dataText);
    auto read = spec::readDataSizes(dataText, dataFile);
    if (!read) return fail(read.error());
    sizes = std::move(*read);
  }
  for (const std::string& arg : inputs)
    if (auto eq = arg.find('='); eq != std::string::npos)
      spec::addInputSize(sizes, arg.substr(0, eq), std::string_view(arg).substr(eq + 1));
  auto ast = spec::loadProgram(file, diags, &sizes);
  if (!ast) {
    diags.print(std::cerr);
    return kUsage;
  }
  // Networks are loaded from their files (ONNX / NNet) as layer nodes.
  ir::LowerOptions options;
  options.networkLoader = neural::networkLoader();
  auto prog = ir::lower(*ast, options);
  if (!prog) return fail(prog.error());
  out.program = std::make_unique<ir::Program>(std::move(*prog));
  const ir::Context& ctx = out.program->ctx();
  const ir::Function* f = out.program->findFunction(module);
  if (module.empty() || !f || f->kind() == ir::FunctionKind::External) {
    std::string names;
    for (auto& g : out.program->functions())
      if (g->kind() == ir::FunctionKind::Module) names += (names.empty() ? "" : ", ") + g->name();
    return fail(Error((module.empty() ? std::string("no module given") : "unknown module '" + module + "'") +
                      " in " + file + " (available: " + (names.empty() ? "none" : names) + ")"));
  }
  out.function = f;
  std::vector<std::optional<symbolic::Value>> values(f->inputs().size());
  if (!dataFile.empty()) {
    auto bound = symbolic::bindJsonInputs(*f, ctx, dataText, dataFile);
    if (!bound) return fail(bound.error());
    values = std::move(*bound);
  }
  for (auto& [name, text] : preset) {
    int k = f->inputIndex(name);
    if (k < 0) continue;
    auto val =
        symbolic::parseValue(text, f->inputs()[size_t(k)].var->type(), ctx, "input '" + name + "'");
    if (!val) return fail(val.error());
    values[size_t(k)] = std::move(*val);
  }
  for (const std::string& arg : inputs) {
    auto eq = arg.find('=');
    if (eq == std::string::npos) return fail(Error("--input takes name=value, got '" + arg + "'"));
    std::string name = arg.substr(0, eq), text = arg.substr(eq + 1);
    int k = f->inputIndex(name);
    if (k < 0) {
      std::string names;
      for (auto& p : f->inputs()) names += (names.empty() ? "" : ", ") + p.var->name();
      return fail(Error("unknown input '" + name + "' of module '" + module + "' (inputs: " +
                        (names.empty() ? "none" : names) + ")"));
    }
    auto val = symbolic::parseValue(text, f->inputs()[k].var->type(), ctx, "input '" + name + "'");
    if (!val) return fail(val.error());
    values[k] = std::move(*val);
  }
  for (size_t k = 0; k < values.size(); ++k) {
    if (!values[k])
      return fail(
          Error("missing input '" + f->inputs()[k].var->name() + "' of module '" + module + "'"));
    if (auto why = symbolic::checkInput(*f, k, *values[k])) return fail(Error(*why));
    out.inputs.push_back(std::move(*values[k]));
  }
  return kOk;
}

} // namespace chassis::tools
