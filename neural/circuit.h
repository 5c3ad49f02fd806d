// Circuits of an AffineNet, in the sense of mechanistic interpretability (Conmy et al. 2023,
// "Towards Automated Circuit Discovery"), made precise on the plain affine/ReLU chain.
//
// Network. Layer k (k = 0..L-1) computes  z_k = W_k a_k + b_k,  a_{k+1} = relu(z_k) if the layer
// has a ReLU, else z_k;  a_0 = x is the input and a_L the output. W_k is out x in. The unit j of
// a_k is the "source unit j of layer k"; the edge (i, j) of layer k is the weight W_k(i, j) from
// source unit j to the pre-activation z_k(i).
//
// Circuit. A circuit C is a mask keep_k of every W_k plus an ablation rule saying what a cut edge
// carries instead of the live activation of its source:
//   z_k(i) = b_k(i) + sum_{j kept} W_k(i,j) a_k(j) + sum_{j cut} W_k(i,j) abl_k(j)
// where a_k is the circuit's own activation (computed layer by layer through the circuit) and
//   Zero:     abl_k(j) = 0
//   Mean:     abl_k(j) = m_k(j), the mean over a reference dataset of the FULL network's a_k(j)
//   Resample: abl_k(j) = the FULL network's a_k(j) on the paired "patch" input (per sample).
// Zero and Mean ablation are constants, so the circuit is itself an AffineNet (materialize):
//   W'_k = W_k .* keep_k,   b'_k = b_k + (W_k .* !keep_k) abl_k.
// The full circuit (everything kept) is the network; the empty circuit (nothing kept) is the
// constant network computing the output at the ablated activations (for Mean ablation: the
// network's function with every layer fed the mean of its input).
//
// Hidden units are named hK_I: unit I of a_{K+1}, the output of layer K (K < L-1). Bad input
// (mismatched shapes, a Resample circuit where a constant ablation is needed, a missing patch
// matrix) throws std::invalid_argument with a message naming the problem.
#pragma once

#include "neural/affine_net.h"

#include <Eigen/Dense>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chassis::neural {

enum class Ablation { Zero, Mean, Resample };

const char* ablationName(Ablation a); // "zero", "mean", "resample"
std::optional<Ablation> parseAblation(std::string_view s);

using EdgeMask = Eigen::Matrix<bool, Eigen::Dynamic, Eigen::Dynamic>;

/// A circuit of an AffineNet: the kept edges (weights) of each layer plus the rule for what is cut.
struct Circuit {
  std::vector<EdgeMask> keep; // keep[k] has the shape of net.layers[k].W (out x in)
  Ablation ablation = Ablation::Mean;
};

Circuit fullCircuit(const AffineNet& net, Ablation ablation);  // every edge kept
Circuit emptyCircuit(const AffineNet& net, Ablation ablation); // none kept
/// The edges C cuts, with C's ablation (used for completeness).
Circuit complementCircuit(const Circuit& c);
/// Throws std::invalid_argument unless c has one mask per layer of W's shape.
void checkCircuitShape(const AffineNet& net, const Circuit& c);

/// Mean of every layer's input activation over a reference dataset (X: one sample per row);
/// mean[0] = input means, mean[k] = post-activation means of layer k-1's output. One entry per
/// layer (mean[k] has layers[k].W.cols() entries).
struct ActivationStats {
  std::vector<Eigen::VectorXd> mean;
};
ActivationStats activationStats(const AffineNet& net, const Eigen::MatrixXd& X);

/// The full network's activations on X (rows): acts[k] = a_k (n x size), k = 0..L (acts[0] = X,
/// acts[L] = the output).
std::vector<Eigen::MatrixXd> layerActivations(const AffineNet& net, const Eigen::MatrixXd& X);

/// Zero or mean ablation as a plain network: W' = W .* keep, b' = b + (W .* !keep) * mean (mean:
/// the source unit's mean activation; zero: 0). The result is an ordinary AffineNet the verifier
/// can take. Throws std::invalid_argument for Resample ablation.
AffineNet materialize(const AffineNet& net, const Circuit& c, const ActivationStats& stats);

/// Forward pass of the circuit on X (rows); one output per row. Resample ablation: each cut edge
/// carries the FULL network's activation of its source unit on the paired row of Xpatch (same
/// row count); Xpatch is ignored for zero/mean.
Eigen::MatrixXd circuitForward(const AffineNet& net, const Circuit& c, const ActivationStats& stats,
                               const Eigen::MatrixXd& X, const Eigen::MatrixXd& Xpatch = {});

/// Hidden units in the circuit: unit i of layer k (k < last) is in it when a kept edge enters it
/// and a kept edge leaves it. result[k][i], one vector per hidden layer (L-1 of them).
std::vector<std::vector<bool>> circuitNeurons(const AffineNet& net, const Circuit& c);

/// Size of a circuit: hidden neurons in it (circuitNeurons), kept edges, and the share of the
/// network's total sum |W| carried by kept edges (1 when every edge is kept; when the network's
/// weights are all zero, the share of edges kept).
struct CircuitSize {
  int neurons = 0, totalNeurons = 0;
  long edges = 0, totalEdges = 0;
  double weightShare = 0;
};
CircuitSize circuitSize(const AffineNet& net, const Circuit& c);

/// Graphviz DOT via boost::write_graphviz (Boost.Graph adjacency_list): nodes are the inputs, the
/// outputs and every hidden unit touched by a kept edge, ranked by layer (left to right); each
/// kept edge is labelled with its weight (%.4g) and drawn with pen width growing with |w|. Cut
/// edges are not drawn. Node labels are inputNames / outputNames (defaults x0.. / y0.. when
/// empty) and hK_I for hidden units.
std::string circuitDot(const AffineNet& net, const Circuit& c,
                       const std::vector<std::string>& inputNames,
                       const std::vector<std::string>& outputNames);

/// The circuit (zero/mean, materialised) as readable .chs: a module
/// `name(x0: real, ...) -> (y0: real, ...)` with one `let hK_I = relu(w * x + ... + b);` per
/// hidden unit that depends on the input and reaches an output through kept edges, and only kept
/// terms (weights and biases printed round-trip with %.17g). A unit whose kept inputs are all
/// constant is folded into its consumers' biases, so the module computes exactly the function of
/// materialize() (up to the order of floating-point summation). It parses, runs and verifies like
/// any module. Names from inputNames/outputNames (sanitised to identifiers, reserved words and
/// clashes get a suffix; defaults x0.. / y0.. when empty). Throws for Resample ablation.
std::string circuitChs(const AffineNet& net, const Circuit& c, const ActivationStats& stats,
                       const std::string& name, const std::vector<std::string>& inputNames,
                       const std::vector<std::string>& outputNames);

} // namespace chassis::neural
