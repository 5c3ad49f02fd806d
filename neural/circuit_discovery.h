// Automatic circuit discovery on an AffineNet (circuits and ablation: neural/circuit.h): score
// every edge by how much the behaviour on a dataset depends on it, keep the important ones, and
// measure how faithful and complete the result is.
//
// Behaviour. BehaviourData holds the inputs X (one sample per row), the patch inputs Xpatch (same
// shape; used only by Resample ablation, row r is the patch of row r) and the targets Y:
//   classification: Y is n x 1, class indices 0..outputs-1;  metric m = accuracy (argmax of the
//                   output, first maximum on ties, against the label);  divergence D(p, q) =
//                   mean over samples of KL(softmax(p) || softmax(q)), p the full network's output.
//   regression:     Y is n x outputs;  metric m = -MSE against Y (mean over samples and outputs);
//                   divergence D(p, q) = MSE between the two outputs.
//
// Edge scores (>= 0, per layer in W's shape, higher = more important):
//   ACDC (Conmy et al. 2023), greedy: start from the full circuit; visit the layers from the
//     output backwards, in each layer the edges (i, j) in row-major order (receiving unit i, then
//     source j); tentatively cut the edge; if D(full, current circuit) grows by less than the
//     threshold, keep it cut. An edge's score = max(0, the increase of D measured when it was
//     tried). The run depends on the threshold; scoreEdges uses acdcScoreThreshold (a tiny
//     threshold that cuts exactly the edges without effect on the data), discoverCircuit the given
//     one and returns the greedy run's circuit (for threshold > 0 exactly the edges with
//     score >= threshold; "effect" means a change of D of at least that tiny threshold).
//     A trial is incremental and exact: only the samples whose unit value changes, and only
//     the units the change reaches on the way to an output, are recomputed (details in
//     circuit_discovery.cpp); an edge whose cut changes nothing costs O(samples). Measured on
//     a random 64-64-64-64-10 net with 2000 samples: about 2.5 s of CPU per run on a loaded
//     2-core machine (see the "[.circuit-bench]" test).
//   EAP (edge attribution patching, Syed et al. 2023), with integrated gradients (EAP-IG, Hanna
//     et al. 2024): score(j -> i of layer k) = mean_x |(a_j(x) - abl_j(x)) W_k(i,j) g_i(x)|,
//     g_i = dM/dz_i averaged over kEapSteps points of the path where layer k's inputs go from
//     their ablated values to their clean ones (the rest of the network run on from there).
//     Plain EAP takes the gradient at the clean point only, and is blind to saturated units:
//     a compiled comparison's step relu(t/m + 1) - relu(t/m) has gradient 0 outside its margin,
//     so its edges scored 0 (edge ROC-AUC 0.53-0.94 on the compiled examples); along the path
//     the step is crossed and scored.
//     where abl is the ablated value (0, the mean, or the full network's a_j on the patch row) and
//     M a differentiable proxy of the metric: the logit difference, the label's logit minus the
//     mean of the others (classification; the label's logit alone ignored edges into the other
//     logits, which move the decision as much), or, for
//     regression, each output in turn (the scores for the outputs are summed). The gradient of D
//     itself is identically 0 at the full network, hence the proxy. ReLU'(0) = 1/2 for a unit
//     that is positive on some row of the data, 0 for one that never is: a path can run along a
//     kink (relu(a - b) with a = b, the XOR of compiled parity), where relu'(0) = 0 scored both
//     edges into the unit 0 on every row although cutting either alone moves the unit.
//   Magnitude (baseline): score(j -> i of layer k) = |W_k(i,j)| * mean_x |a_j(x)|, the mean
//     absolute size of the term the edge adds (full network, on X; independent of ablation and
//     targets), and 0 when unit i reaches no output through nonzero weights (a dead end, pruned
//     first as magnitude pruning does).
// discoverCircuit keeps the edges with score >= threshold.
//
// Circuit metrics, with m(C) the metric of circuit C (circuitForward, C's ablation), N the full
// and E the empty circuit:
//   faithfulness(C) = (m(C) - m(E)) / (m(N) - m(E)); when m(N) == m(E) it is 1 if m(C) == m(N)
//                     and 0 otherwise (never NaN). faithfulness(N) = 1, faithfulness(E) = 0.
//   completeness(C) = 1 - faithfulness(complement of C) (the cut edges as a circuit, same
//                     ablation): 1 for N, 0 for E.
//   accuracy        = accuracy of C (classification; NaN for regression, which has none).
// edgeRocAuc: the area under the ROC curve of the scores against a true circuit over all edges
// (Mann-Whitney: the probability that a true edge outscores a false one, ties counting 1/2); NaN
// when the truth has no true or no false edge.
// Mean ablation in scoreEdges / discoverCircuit uses the means over data.X (activationStats).
// Bad input (shapes, labels out of range, missing patch data) throws std::invalid_argument.
#pragma once

#include "neural/circuit.h"

#include <Eigen/Dense>

#include <optional>
#include <string_view>
#include <vector>

namespace chassis::neural {

enum class DiscoveryMethod { Acdc, Eap, Magnitude };
/// Points of the integrated-gradients path of EAP.
inline constexpr int kEapSteps = 16;

const char* methodName(DiscoveryMethod m); // "acdc", "eap", "magnitude"
std::optional<DiscoveryMethod> parseMethod(std::string_view s);

/// How behaviour is scored: classification (labels = class indices; metric = accuracy,
/// divergence = KL of softmaxes) or regression (metric = -MSE against targets, divergence = MSE
/// between outputs).
struct BehaviourData {
  Eigen::MatrixXd X, Xpatch;
  Eigen::MatrixXd Y;
  bool classification = true;
};

struct EdgeScores {
  std::vector<Eigen::MatrixXd> score; // per layer, W's shape, >= 0, higher = more important
};

/// The ACDC threshold scoreEdges uses: edges whose cut raises D by less than this are cut.
constexpr double acdcScoreThreshold = 1e-12;

EdgeScores scoreEdges(const AffineNet& net, DiscoveryMethod method, Ablation ablation,
                      const BehaviourData& data);

/// One greedy ACDC run at `threshold`: its edge scores and (if `circuit`) the circuit it leaves.
EdgeScores acdcRun(const AffineNet& net, Ablation ablation, const BehaviourData& data,
                   double threshold, Circuit* circuit = nullptr);

Circuit discoverCircuit(const AffineNet& net, DiscoveryMethod method, Ablation ablation,
                        const BehaviourData& data, double threshold);

/// Area under the ROC curve of `scores` against `truth` (ties count 1/2).
double edgeRocAuc(const EdgeScores& scores, const std::vector<EdgeMask>& truth);

/// The metric m on the data of a network output (n x outputs): accuracy or -MSE.
double behaviourMetric(const Eigen::MatrixXd& out, const BehaviourData& data);
/// The divergence D(full, circuit) of two outputs (n x outputs).
double behaviourDivergence(const Eigen::MatrixXd& full, const Eigen::MatrixXd& circuit,
                           bool classification);

struct CircuitMetrics {
  double metricFull, metricEmpty, metricCircuit, faithfulness, completeness, accuracy;
};
CircuitMetrics circuitMetrics(const AffineNet& net, const Circuit& c, const ActivationStats& stats,
                              const BehaviourData& data);

} // namespace chassis::neural
