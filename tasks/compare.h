// The side-by-side comparison of a task (a `task` declaration of a .chs file, spec/ast.h): the
// engineered module, a network trained on (or loaded for, or compiled from) the same task, and the
// circuit that circuit discovery extracts from that network. One run computes, in order:
//
//   data        three seeded datasets drawn from the task (tasks/task_dataset.h): training (when
//               the network is trained), discovery (circuit discovery and mean activations) and a
//               held-out evaluation set; a fourth, independent, pairs evaluation inputs with
//               patch inputs for resample ablation and the leak;
//   network     loaded (onnx/nnet), trained (byte-reproducible at the task's seed) or compiled
//               from the reference module (neural/compile_module.h, exact outside the margins);
//   circuit     discovered on the discovery set (neural/circuit_discovery.h) with the chosen
//               method, ablation and threshold; with zero or mean ablation it is a plain network;
//   accuracy    of module, network and circuit against the reference labels, held-out data;
//   properties  each property the task names, checked three times with the verifier: as written
//               (the module), and with the network, then the circuit, standing in for the label
//               output (tasks/stand_in.h); a counterexample replays on the artefact it refutes;
//   faithfulness on data: faithfulness, completeness, decision agreement rate; formally, over the
//               task's input box: the certified max |C - N| with the worst point found, and whether
//               C and N take the same decision everywhere (verifier/faithfulness.h). A domain of
//               only discrete inputs (bool, enum, int) with at most 65,536 points is enumerated
//               exhaustively instead (the box's real relaxation would admit points the task never
//               sees);
//   leak        patch the circuit's hidden units from another input x' and run the full network on
//               x: the circuit predicts C(x'); the leak is |N_patch(x; S <- x') - C(x')|, on data
//               (mean, max, decision flip rate) and as a certified worst case over box x box;
//   sweep       circuits of every method over a range of thresholds: size against empirical
//               faithfulness and certified max deviation (the "networks leak" curve);
//   regions     decisions of the three on 2-D slices of the box (the first two real inputs, the
//               others at the box centre).
// The report is a JSON document (the schema tasks/report.h renders); the artefacts (network,
// circuit as a network, circuit as DOT and as .chs) are returned beside it.
#pragma once

#include "neural/affine_net.h"
#include "neural/circuit.h"
#include "neural/circuit_discovery.h"
#include "spec/ast.h"
#include "spec/diagnostics.h"
#include "spec/error.h"
#include "spec/ir.h"
#include "tasks/task_dataset.h"

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chassis::tasks {

/// A task loaded from its file: the checked AST, the plain lowered program, the declaration and
/// the reference module, and the input box of the network's features (the reference module's
/// inputs, flattened; narrowed by the task's `box`).
struct LoadedTask {
  std::string file;
  std::unique_ptr<spec::Program> ast;
  std::unique_ptr<ir::Program> program;
  const spec::TaskDecl* decl = nullptr;
  const ir::Function* reference = nullptr;
  int labelIndex = -1;               // the label output of `reference`
  std::vector<std::string> features; // the network's input columns
  Eigen::VectorXd lo, hi;            // their box (infinite where unbounded)
  std::vector<bool> discrete;        // per column: bool, enum or int
  bool classification = true;
  int numClasses = 0;
  std::vector<std::string> classNames;
};

/// Loads `file` and finds task `name` (empty: the file's only task). Errors are located (at the
/// task, or the file when it has none) and reported to `diags` too.
Expected<LoadedTask> loadTask(const std::string& file, const std::string& name,
                              spec::DiagnosticEngine& diags);

/// A dataset of the task: `samples` inputs and their reference labels, from `seed`.
Expected<TaskDataset> drawTaskData(const LoadedTask& t, int samples, uint64_t seed);

/// The three datasets of a comparison, each of `samples` inputs, seeded from `seed`: discovery
/// (circuit discovery and mean activations), evaluation (held out), and patch inputs paired with
/// the evaluation rows (resample ablation, the leak).
struct ComparisonData {
  TaskDataset discovery, evaluation, patch;
};
Expected<ComparisonData> drawComparisonData(const LoadedTask& t, int samples, uint64_t seed);

/// The task's network as its `network` clause says (loaded, trained or compiled). `progress`
/// gets a line per training epoch when set. `groundTruth` receives the compiled network's circuit
/// (compile only).
Expected<neural::AffineNet> taskNetwork(const LoadedTask& t, std::ostream* progress,
                                        std::vector<neural::EdgeMask>* groundTruth = nullptr);

/// The data circuit discovery and the metrics use: X (rows), a patch input per row (another
/// sample), and the reference labels (class index per row, or the targets).
neural::BehaviourData behaviourData(const TaskDataset& d, const TaskDataset& patch,
                                    bool classification);

struct CompareOptions {
  std::string task; // empty: the file's only task
  neural::DiscoveryMethod method = neural::DiscoveryMethod::Acdc;
  neural::Ablation ablation = neural::Ablation::Mean;
  double threshold = 0.01;
  bool sweep = true;                   // the curve: every method over `sweepThresholds`
  std::vector<double> sweepThresholds; // empty: a default geometric range
  int samples = 2000;                  // per dataset
  uint64_t seed = 1;                   // data; training uses the task's own seed
  double propertyTimeout = 30;         // s per property and artefact
  double faithTimeout = 60;            // s per formal faithfulness / leak analysis
  double sweepTimeout = 5;             // s per sweep point's certified deviation
  int regionsNx = 40, regionsNy = 30;
  std::ostream* progress = nullptr; // a line per step
};

struct CompareResult {
  nlohmann::json report;
  neural::AffineNet network, circuitNet; // circuitNet: materialised (zero/mean ablation)
  neural::Circuit circuit;
  std::string circuitDot, circuitChs;
  std::vector<std::string> features, outputs;
};

/// Runs the comparison (see above). Errors are located; analysis failures (a timeout, a
/// construct the verifier does not handle) are recorded in the report, not errors.
Expected<CompareResult> runCompare(const std::string& file, const CompareOptions& opts,
                                   spec::DiagnosticEngine& diags);

} // namespace chassis::tasks
