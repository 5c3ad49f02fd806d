// Forward symbolic interval propagation (ReluVal / Neurify style) for input-splitting branch and
// bound on networks with few inputs (ACAS Xu: 5). Every neuron carries a lower and an upper
// linear function of the d inputs, L(x) - eL <= value(x) <= U(x) + eU on the box, propagated
// layer by layer at a cost of about 4 n_k n_{k-1} (d + 1) flops per layer (no back-substitution),
// and concretised over the box into sound pre-activation bounds (NetBounds) that bounds.h's
// outputLowerBound then uses for the property's rows. All arithmetic is float64 with every
// rounding error accounted for in the allowances eL, eU (see nv_forward.cpp), so the bounds hold
// for REAL arithmetic on the network's double weights. One object per thread: it owns
// preallocated buffers and is not shareable; the weights' prepared forms (ForwardWeights) are
// read-only and shared by the bounders of one search.
#pragma once

#include "neural/affine_net.h"
#include "verifier/bounds.h"

#include <Eigen/Dense>
#include <Eigen/SparseCore>

#include <memory>
#include <mutex>
#include <vector>

namespace chassis::verifier {

/// A network's weights in the forms the forward bounder multiplies by, built once and shared
/// read-only by every ForwardBounder of the network (one per search thread). A layer under 10%
/// non-zero (TLL networks) is kept only in compressed form, built from W's non-zeros with no
/// dense intermediate: [W+ | W-] and [W+ | |W-|] row by row, and W column by column; a denser
/// layer keeps the two dense n x 2m matrices. refine()'s row- and column-major copies of every
/// layer are built on first use (thread-safe). Only exact zeros are dropped, so every product
/// has the non-zero terms of the dense one. The network must outlive it and stay unchanged.
class ForwardWeights {
public:
  /// sparseLayers false keeps every layer dense (the reference the sparse forms are tested
  /// against).
  explicit ForwardWeights(const neural::AffineNet& net, bool sparseLayers = true);
  const neural::AffineNet& net() const { return net_; }
  /// Whether layer k is kept in compressed form only.
  bool sparse(size_t k) const { return sW_[k].nonZeros() > 0; }

private:
  friend class ForwardBounder;
  using RowSparse = Eigen::SparseMatrix<double, Eigen::RowMajor>;
  using ColSparse = Eigen::SparseMatrix<double, Eigen::ColMajor>;
  /// refine()'s copies of layer k: W row by row and column by column (a sparse layer's own; a
  /// dense layer's built on the first call, for every dense layer at once).
  const RowSparse& rows(size_t k) const;
  const ColSparse& cols(size_t k) const;
  void buildDenseCopies() const;

  const neural::AffineNet& net_;
  // Dense layers: [W+ | W-] and [W+ | |W-|] (n x 2m); empty for a sparse layer.
  std::vector<Eigen::MatrixXd> Wpn_, Wpa_;
  // Sparse layers: the same two matrices compressed, W column by column and row by row; else
  // empty.
  std::vector<RowSparse> sWpn_, sWpa_, sWr_;
  std::vector<ColSparse> sW_;
  std::vector<Eigen::VectorXd> babs_; // |b| per layer
  mutable std::once_flag denseCopiesOnce_;
  mutable std::vector<RowSparse> dWr_; // dense layers' refine() copies
  mutable std::vector<ColSparse> dWc_;
};

/// How an unstable ReLU's lower side z >= lambda * L(x) picks lambda in [0, 1].
enum class LowerSlope {
  Parallel, // lambda = uL / (uL - lL): parallel to the upper side (Neurify)
  Area      // lambda = 1 if uL > -lL else 0 (DeepPoly's smaller-area choice)
};

class ForwardBounder {
public:
  explicit ForwardBounder(const neural::AffineNet& net, LowerSlope slope = LowerSlope::Parallel);
  /// A bounder on the network of `weights`, sharing them (no copy of the weights).
  explicit ForwardBounder(std::shared_ptr<const ForwardWeights> weights,
                          LowerSlope slope = LowerSlope::Parallel);
  const std::shared_ptr<const ForwardWeights>& weights() const { return w_; }

  /// Sound pre-activation bounds of every layer over `box` (no phase splits), into `nb`
  /// (reusing its storage). nb.infeasible stays false: a box is never empty.
  /// `prior` (may be null): bounds known sound on a box containing `box` (the parent domain's,
  /// refined by back-substitution): each layer's concretised bounds are intersected with them
  /// BEFORE its ReLUs are relaxed, so a neuron the parent proved stable stays exact here and an
  /// unstable one gets the tighter chord; the functions propagated on are then tighter too.
  void bound(const Box& box, NetBounds& nb, const NetBounds* prior = nullptr);

  /// After bound(): rows of C * output >= A x + c on the box (the relaxations' offsets and
  /// the rounding allowance folded into c), and `lower` <= their minimum over the box. Uses the
  /// forward output functions only (no back-substitution): cheap, and sometimes tighter than
  /// outputLowerBound's, sometimes looser; the caller may take the better of the two per row.
  void outputLower(const Box& box, const Eigen::MatrixXd& C, LinearLower& out) const;

  /// A split heuristic (not a bound): adds to smear_i the width of an interval enclosing the
  /// i-th partial derivative of c^T output over the box, times the box's width in dimension i
  /// (ReluVal's smear with interval gradients: a ReLU with pre-activation bounds nb has
  /// derivative 1 if active, 0 if inactive, [0, 1] if unstable). A dimension the bounded
  /// function is linear in scores 0: splitting it would not tighten the relaxation.
  void gradientSmear(const Box& box, const NetBounds& nb, const Eigen::RowVectorXd& c,
                     Eigen::VectorXd& smear);

  /// refineBounds (bounds.h) on a network with sparse layers: each ReLU layer's unstable
  /// neurons, bottom up, in blocks of 64, bounded by back-substitution through nb's bounds of
  /// the layers below and intersected with nb, with the same relaxations and rounding
  /// allowances, but each block's objective is carried only over the neurons it depends on (its
  /// non-zero columns: on a TLL network a few dozen of a layer's thousands) instead of the whole
  /// layer. The bounds equal refineBounds' up to the summation order of their float64 sums.
  void refine(const Box& box, NetBounds& nb);
  /// Whether some layer is kept sparse (refine() pays off), as WeightProducts::sparse.
  bool hasSparseLayer() const;

private:
  std::shared_ptr<const ForwardWeights> w_;
  const neural::AffineNet& net_;
  LowerSlope slope_;
  int d_ = 0;
  // Per layer: the pre-activation functions HL, HU (n_k x (d+1), column d the constant) and
  // their allowances.
  Eigen::MatrixXd Zs_, Es_, H_, Eh_;
  std::vector<Eigen::MatrixXd> HL_, HU_;
  std::vector<Eigen::VectorXd> eHL_, eHU_;
  // Post-activation functions of the current layer (buffers reused layer to layer).
  Eigen::MatrixXd ZL_, ZU_, absZ_;
  Eigen::VectorXd eZL_, eZU_, xm_, tmp_;
  Eigen::VectorXd gl_, gu_, nl_, nu_; // gradientSmear's intervals
  // refine(): the per-layer |W| zmax of the block's rounding allowance.
  std::vector<Eigen::VectorXd> vk_;
  std::vector<int> pos_;      // a neuron's column in the block's compact objective, or -1
  std::vector<char> mark_;    // columns reached by the next product
};

} // namespace chassis::verifier
