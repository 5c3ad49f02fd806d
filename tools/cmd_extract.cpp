// `chassis extract NET.onnx --task FILE.chs [--name T] [--method acdc|eap|magnitude]
//                 [--ablation zero|mean|resample] [--threshold t] [-o circuit.onnx] [--dot F]
//                 [--chs F] [--emit=chs|dot] [--samples N] [--seed S] [--json]`
// Circuit discovery on a network (ONNX or NNet) with the data of a task (tasks/compare.h draws it
// from the task's input domain, labels from its reference module): the circuit's size and its
// faithfulness, completeness and accuracy on held-out data (neural/circuit_discovery.h). The
// circuit is written as ONNX (-o; zero or mean ablation, folded into the biases, so it is a plain
// network), as Graphviz DOT (--dot) and as a readable .chs module (--chs); --emit=chs or
// --emit=dot prints that form to standard output instead of the summary.
// Exit codes: 0 done, 2 bad network, task or option (nothing written).
#include "tools/circuit_options.h"
#include "tools/command.h"
#include "tools/json_report.h"
#include "tools/output_file.h"

#include "neural/circuit.h"
#include "neural/circuit_discovery.h"
#include "neural/network.h"
#include "neural/nnet.h"
#include "neural/onnx.h"
#include "spec/diagnostics.h"
#include "tasks/compare.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <iostream>

namespace {

using namespace chassis;
using namespace chassis::tools;

struct ExtractCli {
  std::string net, task, name, output, dot, chs, emit;
  CircuitOptions circuit;
  bool json = false;
};

bool endsWith(const std::string& s, const std::string& suf) {
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

int runExtract(ExtractCli& c) {
  if (!c.circuit.parse()) return kUsage;
  const neural::DiscoveryMethod m = c.circuit.discovery;
  const neural::Ablation a = c.circuit.cut;
  if (!c.emit.empty() && c.emit != "chs" && c.emit != "dot") {
    std::cerr << "error: --emit must be chs or dot, got '" << c.emit << "'\n";
    return kUsage;
  }
  const bool plain = a != neural::Ablation::Resample;
  if (!plain && (!c.output.empty() || !c.chs.empty() || c.emit == "chs")) {
    std::cerr << "error: with resample ablation the circuit depends on a second input and is not "
                 "a plain network: -o, --chs and --emit=chs need zero or mean ablation\n";
    return kUsage;
  }
  if (c.output.empty() && c.dot.empty() && c.chs.empty() && c.emit.empty() && !c.json)
    std::cerr << "note: no -o, --dot or --chs given: the circuit is summarised, not written\n";
  if (!checkWritable({c.output, c.dot, c.chs})) return kUsage;

  // The network.
  auto loaded = endsWith(c.net, ".nnet") ? neural::loadNNet(c.net) : neural::loadOnnx(c.net);
  if (!loaded) {
    std::cerr << loaded.error().str() << "\n";
    return kUsage;
  }
  auto N = neural::toAffineNet(*loaded);
  if (!N) {
    std::cerr << c.net << ": error: " << N.error().message << "\n";
    return kUsage;
  }
  // The task's data.
  spec::DiagnosticEngine diags;
  auto t = tasks::loadTask(c.task, c.name, diags);
  if (!t) {
    if (diags.errorCount() == 0) diags.report(t.error());
    diags.print(std::cerr);
    return kUsage;
  }
  if (N->inputSize != int(t->features.size())) {
    std::cerr << c.net << ": error: the network takes " << N->inputSize << " inputs but task '"
              << t->decl->name << "' gives " << t->features.size() << " features ("
              << t->features.size() << " inputs of '" << t->decl->labelModule << "')\n";
    return kUsage;
  }
  auto fail = [&](const Error& e) {
    diags.report(e);
    diags.print(std::cerr);
    return kUsage;
  };
  auto sets = tasks::drawComparisonData(*t, c.circuit.samples, uint64_t(c.circuit.seed));
  if (!sets) return fail(sets.error());
  const tasks::TaskDataset* disc = &sets->discovery;
  const tasks::TaskDataset* eval = &sets->evaluation;
  const tasks::TaskDataset* patch = &sets->patch;
  if (t->classification && N->outputSize() != t->numClasses && N->outputSize() != 1) {
    std::cerr << c.net << ": error: the network has " << N->outputSize() << " outputs but the "
              << "label has " << t->numClasses << " classes\n";
    return kUsage;
  }

  const neural::BehaviourData bd = tasks::behaviourData(*disc, *patch, t->classification);
  const neural::ActivationStats stats = neural::activationStats(*N, disc->data.X);
  const neural::Circuit circuit = neural::discoverCircuit(*N, m, a, bd, c.circuit.threshold);
  const neural::CircuitSize size = neural::circuitSize(*N, circuit);
  const neural::CircuitMetrics metrics = neural::circuitMetrics(
      *N, circuit, stats, tasks::behaviourData(*eval, *patch, t->classification));
  std::vector<std::string> outs;
  for (int k = 0; k < N->outputSize(); ++k)
    outs.push_back(t->classification && N->outputSize() == t->numClasses ? t->classNames[size_t(k)]
                                                                         : "y" + std::to_string(k));
  const std::string dot = neural::circuitDot(*N, circuit, t->features, outs);
  const std::string chs =
      plain ? neural::circuitChs(*N, circuit, stats, t->decl->name + "_circuit", t->features, outs)
            : std::string();

  // Everything computed: now write.
  bool ok = true;
  if (!c.output.empty()) {
    auto bytes = neural::serializeOnnx(
        neural::fromAffineNet(neural::materialize(*N, circuit, stats), "circuit"));
    if (!bytes) {
      std::cerr << c.output << ": error: " << bytes.error().message << "\n";
      return kUsage;
    }
    ok = writeFileAtomic(c.output, *bytes) && ok;
  }
  if (!c.dot.empty()) ok = writeFileAtomic(c.dot, dot) && ok;
  if (!c.chs.empty()) ok = writeFileAtomic(c.chs, chs) && ok;

  auto num = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(); };
  if (c.emit == "chs") {
    std::cout << chs;
  } else if (c.emit == "dot") {
    std::cout << dot;
  } else if (c.json) {
    nlohmann::json j = {{"network", c.net},
                        {"task", t->decl->name},
                        {"method", neural::methodName(m)},
                        {"ablation", neural::ablationName(a)},
                        {"threshold", c.circuit.threshold},
                        {"neurons", size.neurons},
                        {"total_neurons", size.totalNeurons},
                        {"edges", size.edges},
                        {"total_edges", size.totalEdges},
                        {"weight_share", num(size.weightShare)},
                        {"faithfulness", num(metrics.faithfulness)},
                        {"completeness", num(metrics.completeness)},
                        {"accuracy", num(metrics.accuracy)},
                        {"network_metric", num(metrics.metricFull)},
                        {"samples", eval->data.size()}};
    printReport("extract", c.net, nlohmann::ordered_json{{"task", c.task}}, j);
  } else {
    std::printf("circuit of %s for task '%s': %s, %s ablation, threshold %g\n", c.net.c_str(),
                t->decl->name.c_str(), neural::methodName(m), neural::ablationName(a),
                c.circuit.threshold);
    std::printf("  size:          %d of %d neurons, %ld of %ld edges, %.1f%% of the weight mass\n",
                size.neurons, size.totalNeurons, size.edges, size.totalEdges,
                100 * size.weightShare);
    std::printf("  faithfulness:  %.2f%%   completeness: %.2f%%   accuracy: %.2f%% (%d held-out "
                "samples)\n",
                100 * metrics.faithfulness, 100 * metrics.completeness, 100 * metrics.accuracy,
                eval->data.size());
  }
  return ok ? kOk : kUsage;
}

chassis::tools::Registration reg{
    "extract", "Discover a circuit of a network on a task's data and write it as ONNX, DOT or .chs",
    [](CLI::App& app) {
      auto c = std::make_shared<ExtractCli>();
      app.add_option("network", c->net, "the network (.onnx or .nnet)")->required();
      app.add_option("--task", c->task, "the .chs file declaring the task")->required();
      app.add_option("--name", c->name, "the task's name (default: the file's only task)");
      addCircuitOptions(app, c->circuit);
      app.add_option("-o,--output", c->output, "write the circuit as ONNX (zero/mean ablation)");
      app.add_option("--dot", c->dot, "write the circuit as Graphviz DOT");
      app.add_option("--chs", c->chs, "write the circuit as a .chs module");
      app.add_option("--emit", c->emit, "print the circuit as chs or dot instead of the summary");
      app.add_flag("--json", c->json, "print the summary as JSON");
      return [c]() { return runExtract(*c); };
    }};

} // namespace
