// `chassis compile-net`: compiles a piecewise-linear module into an exact ReLU network
// (neural/compile_module.h) and writes it as ONNX, with its ground-truth circuit as JSON:
//
//   chassis compile-net FILE Module [--margin m] -o net.onnx [--circuit gt.json] [--json]
//
// The circuit file: {"module", "margin", "inputs", "outputs", "num_comparisons", "layers": [{"in",
// "out", "relu", "units": [label per unit], "edges": [[out, in, weight], ...]}]} with the edges
// of the ground truth (nonzero weights on an input-to-output path) in row-major order.
// A summary (layers, neurons, edges, comparisons) goes to stdout, or JSON with --json.
// Exit codes: 0 compiled and written; 2 a bad file, module, option or a construct that is not
// piecewise linear (a located error), and then nothing is written: each file is written to a
// temporary name beside it and renamed into place only when both are complete.
#include "tools/command.h"
#include "tools/json_report.h"
#include "tools/output_file.h"

#include "neural/compile_module.h"
#include "neural/lower_network.h"
#include "neural/network.h"
#include "neural/onnx.h"
#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "spec/lower.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace {

using namespace chassis;
using namespace chassis::tools;

struct CompileNetCli {
  std::string file, module, output, circuit;
  double margin = 1e-3;
  bool json = false, noPrune = false;
};

nlohmann::ordered_json circuitJson(const neural::CompiledNet& c, const std::string& module,
                                   double margin) {
  nlohmann::ordered_json j;
  j["module"] = module;
  j["margin"] = margin;
  j["inputs"] = c.inputNames;
  j["input_lo"] = c.inputLo;
  j["input_hi"] = c.inputHi;
  j["outputs"] = c.outputNames;
  j["num_comparisons"] = c.numComparisons;
  j["domain_points"] = c.domainPoints;
  j["pruned_edges"] = c.prunedEdges;
  j["dropped_units"] = c.droppedUnits;
  j["layers"] = nlohmann::ordered_json::array();
  for (size_t k = 0; k < c.net.layers.size(); ++k) {
    const neural::AffineLayer& L = c.net.layers[k];
    nlohmann::ordered_json l;
    l["in"] = L.W.cols();
    l["out"] = L.W.rows();
    l["relu"] = L.relu;
    l["units"] = k < c.neuronLabels.size() ? c.neuronLabels[k] : c.outputNames;
    l["edges"] = nlohmann::ordered_json::array();
    for (long r = 0; r < L.W.rows(); ++r)
      for (long i = 0; i < L.W.cols(); ++i)
        if (c.groundTruth[k](r, i)) l["edges"].push_back({r, i, L.W(r, i)});
    l["bias"] = std::vector<double>(L.b.data(), L.b.data() + L.b.size());
    j["layers"].push_back(std::move(l));
  }
  return j;
}

int runCompileNet(const CompileNetCli& c) {
  spec::DiagnosticEngine diags;
  auto fail = [&](const Error& e) {
    diags.report(e);
    diags.print(std::cerr);
    return kUsage;
  };
  if (c.output.empty()) return fail(Error("compile-net needs -o FILE.onnx"));
  if (!(c.margin > 0) || !std::isfinite(c.margin))
    return fail(Error("--margin must be a positive number"));
  auto ast = spec::loadProgram(c.file, diags);
  if (!ast) {
    diags.print(std::cerr);
    return kUsage;
  }
  ir::LowerOptions lo;
  lo.networkLoader = neural::networkLoader();
  auto prog = ir::lower(*ast, lo);
  if (!prog) return fail(prog.error());
  const ir::Function* f = prog->findFunction(c.module);
  if (!f || f->kind() != ir::FunctionKind::Module) {
    std::string names;
    for (auto& g : prog->functions())
      if (g->kind() == ir::FunctionKind::Module) names += (names.empty() ? "" : ", ") + g->name();
    return fail(Error(SourceLoc{c.file, 0, 0}, "unknown module '" + c.module + "' (modules: " +
                                                   (names.empty() ? "none" : names) + ")"));
  }
  neural::CompileOptions opt;
  opt.margin = c.margin;
  opt.pruneOnDomain = !c.noPrune;
  auto compiled = neural::compileModule(*prog, *f, opt);
  if (!compiled) return fail(compiled.error());

  // Both files whole or neither (tools/output_file.h): temporary names, renamed once complete.
  const neural::Network net = neural::fromAffineNet(compiled->net, c.module);
  auto onnxBytes = neural::serializeOnnx(net);
  if (!onnxBytes) return fail(onnxBytes.error());
  const nlohmann::ordered_json circuit = circuitJson(*compiled, c.module, c.margin);
  std::vector<std::pair<std::string, std::string>> files{{c.output, *onnxBytes}};
  if (!c.circuit.empty()) files.push_back({c.circuit, circuit.dump(1) + "\n"});
  if (!tools::writeFilesAtomic(files)) return tools::kUsage;

  long neurons = 0, weights = 0;
  for (size_t k = 0; k + 1 < compiled->net.layers.size(); ++k)
    neurons += compiled->net.layers[k].W.rows();
  for (const auto& L : compiled->net.layers)
    weights += long((L.W.array() != 0).count());
  const long edges = neural::countCircuitEdges(*compiled);
  if (c.json) {
    nlohmann::ordered_json j;
    j["module"] = c.module;
    j["inputs"] = compiled->inputNames;
    j["outputs"] = compiled->outputNames;
    j["layers"] = compiled->net.layers.size();
    j["hidden_neurons"] = neurons;
    j["nonzero_weights"] = weights;
    j["circuit_edges"] = edges;
    j["comparisons"] = compiled->numComparisons;
    j["margin"] = c.margin;
    j["domain_points"] = compiled->domainPoints;
    j["pruned_edges"] = compiled->prunedEdges;
    j["dropped_units"] = compiled->droppedUnits;
    j["output"] = c.output;
    if (!c.circuit.empty()) j["circuit"] = c.circuit;
    printReport("compile-net", c.file, nlohmann::ordered_json{{"module", c.module}}, j);
  } else {
    std::cout << "compiled " << c.module << ": " << compiled->net.layers.size() << " layers ("
              << compiled->net.inputSize;
    for (const auto& L : compiled->net.layers)
      std::cout << " -> " << L.W.rows();
    std::cout << "), " << neurons << " hidden neurons, " << edges << " circuit edges (" << weights
              << " nonzero weights), " << compiled->numComparisons << " comparisons with margin "
              << c.margin << "\n";
    if (compiled->domainPoints > 0)
      std::cout << "pruned on the " << compiled->domainPoints << " points of the input domain: "
                << compiled->prunedEdges << " edges and " << compiled->droppedUnits
                << " units computed nothing there\n";
    std::cout << "wrote " << c.output;
    if (!c.circuit.empty()) std::cout << " and " << c.circuit;
    std::cout << "\n";
  }
  return kOk;
}

chassis::tools::Registration reg{
    "compile-net",
    "Compile a piecewise-linear module into an exact ReLU network (ONNX) with its circuit",
    [](CLI::App& app) {
      auto c = std::make_shared<CompileNetCli>();
      app.add_option("file", c->file, "The .chs file")->required();
      app.add_option("module", c->module, "The module to compile")->required();
      app.add_option("--margin", c->margin,
                     "Comparison band: a <= b is exact when b - a >= 0 or b - a <= -margin "
                     "(0.001)");
      app.add_option("-o,--output", c->output, "Write the network here (.onnx)");
      app.add_option("--circuit", c->circuit, "Write the ground-truth circuit here (.json)");
      app.add_flag("--json", c->json, "Print the summary as JSON");
      app.add_flag("--no-prune", c->noPrune,
                   "Keep edges that change no output on a finite (all-integral) input domain");
      return [c]() -> int { return runCompileNet(*c); };
    }};

} // namespace
