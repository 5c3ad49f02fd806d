// Sound bounds on a piecewise-linear network (neural::AffineNet) over an input box, possibly
// restricted by ReLU phase splits: interval bound propagation, then symbolic linear bounds by
// back-substitution (DeepPoly/CROWN style). Every bound is about REAL arithmetic on the network's
// double weights and is rounded outward (see bounds.cpp for the error analysis), so a bound never
// excludes a value the real-valued network takes on the domain.
#pragma once

#include "neural/affine_net.h"

#include <Eigen/Dense>
#include <Eigen/SparseCore>

#include <cstdint>
#include <vector>

namespace chassis::verifier {

/// Phase of each ReLU neuron of each layer: 0 free, +1 split active (pre >= 0),
/// -1 split inactive (pre <= 0). Empty vector per layer (or empty overall) means all free.
using Splits = std::vector<std::vector<int8_t>>;

struct Box {
  Eigen::VectorXd lo, hi;
};

/// Pre-activation bounds of every layer (pre[k] for layer k), sound on the domain.
struct NetBounds {
  std::vector<Eigen::VectorXd> lo, hi;
  bool infeasible = false; // the splits admit no input of the box
  /// Unstable ReLUs: lo < 0 < hi on a layer with relu and not split.
  int unstable(const neural::AffineNet& net) const;
};

/// A network's layer weights prepared for the bound computations' products, built once (one
/// pass over each W) and shared read-only (thread-safe) by every product of one or many bound
/// computations on that network: a compressed sparse copy of each layer under 10% non-zero
/// (convolutions imported as dense matrices, TLL networks), with its positive and negative
/// parts and |W|. Only exact zero products are skipped, so the rounding allowances of bounds.cpp
/// (any summation order, at most W.rows() or W.cols() terms) hold unchanged. The network must
/// outlive it and stay unchanged.
class WeightProducts {
public:
  explicit WeightProducts(const neural::AffineNet& net);
  /// Lam W_k (Lam: rows x W_k.rows()).
  Eigen::MatrixXd leftTimes(int k, const Eigen::MatrixXd& Lam) const;
  /// Z W_k^T (Z: rows x W_k.cols()): layer k applied to each row of Z, without the bias.
  Eigen::MatrixXd rowsThrough(int k, const Eigen::MatrixXd& Z) const;
  /// |W_k| v.
  Eigen::VectorXd absTimes(int k, const Eigen::VectorXd& v) const;
  /// |W_k| M: absTimes of each column of M in one product.
  Eigen::MatrixXd absTimesColumns(int k, const Eigen::MatrixXd& M) const;
  /// max(W_k, 0) p + min(W_k, 0) q.
  Eigen::VectorXd signSplitTimes(int k, const Eigen::VectorXd& p, const Eigen::VectorXd& q) const;
  bool sparse(int k) const { return sparse_[static_cast<size_t>(k)].nonZeros() > 0; }
  const neural::AffineNet& net() const { return *net_; }

private:
  using Sparse = Eigen::SparseMatrix<double, Eigen::ColMajor>;
  const neural::AffineNet* net_;
  std::vector<Sparse> sparse_, pos_, neg_, abs_; // empty for a layer kept dense
};

/// Interval bound propagation (outward rounded), with the splits applied to each layer.
NetBounds intervalBounds(const neural::AffineNet& net, const Box& box, const Splits& splits = {});

/// Symbolic bounds: every layer's pre-activation bounds by back-substitution, intersected with
/// the interval bounds and the splits.
/// `wp` (may be null: built for the call) must be built from `net`.
NetBounds symbolicBounds(const neural::AffineNet& net, const Box& box, const Splits& splits = {},
                         const WeightProducts* wp = nullptr);

/// Tightens sound bounds `nb` of an unsplit box (e.g. forward symbolic intervals, nv_forward.h)
/// in place: each ReLU layer's unstable neurons, in order, are bounded by back-substitution
/// through the current bounds of the layers below, and the result intersected with `nb`.
void refineBounds(const neural::AffineNet& net, const Box& box, NetBounds& nb,
                  const WeightProducts* wp = nullptr);

/// A linear lower bound on the rows of C * output over the domain of `nb`:
/// C y(x) >= A x + c for every x of the domain, and lower = min over the box of A x + c - err
/// (the rounding error allowance already subtracted).
struct LinearLower {
  Eigen::MatrixXd A;
  Eigen::VectorXd c, lower;
};
LinearLower outputLowerBound(const neural::AffineNet& net, const Box& box, const NetBounds& nb,
                             const Eigen::MatrixXd& C);

/// Lam * W for a layer's weights W: through a sparse copy of W when it is under 10% non-zero
/// and Lam has enough rows to pay for the copy (TLL networks: 2400-wide layers, 99% zeros),
/// else dense. Only exact zero products are skipped, so the rounding bounds (any summation
/// order, at most W.rows() terms) are unchanged.
Eigen::MatrixXd timesWeights(const Eigen::MatrixXd& Lam, const Eigen::MatrixXd& W);

/// Lower ReLU slopes per row of an objective: slopes[k] is rows x n_k for layer k (an empty or
/// mis-sized matrix: DeepPoly's 0/1 choice for that layer). Only unstable neurons use them,
/// clamped to [0, 1]: every such slope gives a sound bound (alpha_crown.h optimises them).
using Slopes = std::vector<Eigen::MatrixXd>;

/// outputLowerBound with the lower slopes `alpha` (null: DeepPoly's), and, if lamOut is not
/// null, the objective over each layer's output z_k (lamOut[k], rows x n_k; lamOut[L-1] = C)
/// as back-substitution met it: its signs say which relaxation each row used (alpha_crown.h's
/// gradient, the branching score). `splits` and `beta` (may be null): beta-CROWN's multipliers
/// of the phase splits, beta[k] rows x n_k like the slopes (entries of unsplit neurons ignored,
/// the others clamped at 0): each row's objective over h_k gains -beta_rj s_j h_kj (s_j = +1
/// active, -1 inactive), <= 0 on the split domain, so every beta >= 0 gives a sound bound on
/// the domain of the splits (beta_crown.h optimises them).
LinearLower outputLowerBound(const neural::AffineNet& net, const Box& box, const NetBounds& nb,
                             const Eigen::MatrixXd& C, const Slopes* alpha,
                             std::vector<Eigen::MatrixXd>* lamOut, const Splits* splits = nullptr,
                             const Slopes* beta = nullptr, const WeightProducts* wp = nullptr);

/// outputLowerBound on the rows of C * h_k, layer k's pre-activation (before its ReLU, if any):
/// the bound on the network of the first k + 1 layers without layer k's ReLU, so nb's bounds of
/// layers 0..k-1 are used (layer k's are not) and lamOut gets k + 1 entries.
LinearLower preActivationLowerBound(const neural::AffineNet& net, int k, const Box& box,
                                    const NetBounds& nb, const Eigen::MatrixXd& C,
                                    const Slopes* alpha, std::vector<Eigen::MatrixXd>* lamOut,
                                    const Splits* splits = nullptr, const Slopes* beta = nullptr,
                                    const WeightProducts* wp = nullptr);

/// One bound of a batch (outputLowerBounds): outputLowerBound's arguments, by pointer (box, nb
/// and C required; the others may be null, as there). The pointees must outlive the call.
struct BoundQuery {
  const Box* box = nullptr;
  const NetBounds* nb = nullptr;
  const Eigen::MatrixXd* C = nullptr;
  const Slopes* alpha = nullptr;
  std::vector<Eigen::MatrixXd>* lamOut = nullptr;
  const Splits* splits = nullptr;
  const Slopes* beta = nullptr;
  /// Optional: bounds containing nb's (every lo <= nb's, every hi >= nb's; e.g. a parent
  /// domain's, of which nb is a clamped copy), used only for the magnitudes |z_k| of the
  /// rounding allowance (larger magnitudes give a larger allowance, still sound). Queries with
  /// the same box and magnitude bounds (pointer equality) share one product with |W_k| per
  /// layer. Null: nb's own.
  const NetBounds* magnitudes = nullptr;
};

/// outputLowerBound of every query at once (e.g. many sub-domains of one search, or the two
/// children of many split candidates): the queries' objectives are stacked into one matrix, so
/// each layer's product with W_k (and |W_k|'s with the bounds' magnitudes) is one product over
/// all of them instead of one per query; each query's rows are relaxed with its own bounds,
/// slopes, splits and multipliers. Every row's bound and rounding allowance are computed by the
/// same formulas as outputLowerBound's (only the summation order of the products may differ,
/// which the allowances already cover), so each result is sound on its query's domain.
/// `wp` (may be null: built for the call) must be built from `net`.
std::vector<LinearLower> outputLowerBounds(const neural::AffineNet& net,
                                           const std::vector<BoundQuery>& queries,
                                           const WeightProducts* wp = nullptr);

} // namespace chassis::verifier
