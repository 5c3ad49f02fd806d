// beta-CROWN (Wang et al. 2021): alpha-CROWN's optimised lower ReLU slopes (alpha_crown.h) and,
// on a sub-domain of ReLU phase splits, the split constraints carried into the output bound by
// Lagrange multipliers, both optimised by projected gradient.
//
// Maths. A split restricts the domain to s_j h_j >= 0 (s_j = +1: active, h_j >= 0; -1:
// inactive, h_j <= 0). For any beta_rj >= 0, row r's objective c_r y is >= c_r y -
// sum_j beta_rj s_j h_j on that domain, and back-substitution (bounds.h) bounds the latter from
// below: the multipliers enter as -beta_rj s_j on split neuron j's column of the row's
// objective over h_k (outputLowerBound's `beta`). So the bound B_r(alpha, beta) is sound for
// EVERY alpha in [0, 1] and beta >= 0; the optimisation only picks them. With the minimising
// corner x* and the relaxation signs fixed, B_r is linear in both, and the forward pass of the
// adjoint that gives alpha's gradient (alpha_crown.h: h^_k = W_k z^_{k-1} + b_k on the relaxed
// network from x*) gives beta's too:
//   dB_r / dbeta_rj = -s_j h^_kj     (positive when x*'s relaxed network violates the split).
// Projected gradient ascent (Adam; alpha projected on [0, 1], beta on [0, inf), beta's step
// scaled by the row's largest |coefficient| on the layer, the scale of its multipliers) raises
// every row's bound; the best (alpha, beta) seen per row is kept, and the returned bound is
// computed afresh by bounds.h with them, so its outward rounding is bounds.h's. Only the
// output bound is optimised: the intermediate bounds nb are taken as given.
#pragma once

#include "neural/affine_net.h"
#include "verifier/alpha_crown.h"
#include "verifier/bounds.h"

#include <Eigen/Dense>

#include <vector>

namespace chassis::verifier {

/// The optimised bound of the rows of C * output over the domain of nb and `splits` (nb must
/// already be clamped by them, as symbolicBounds does). `alpha`, `beta` (may be null): in, the
/// starting slopes and multipliers (entries of the right size warm-start, e.g. a parent domain's;
/// others start at DeepPoly's slopes and beta = 0); out, the best per row (beta zero outside the
/// split neurons). A null `beta` or empty `splits`: alpha-CROWN alone. `lamOut` (may be null):
/// the objective over each layer's output under the returned values (see outputLowerBound).
LinearLower betaCrownBound(const neural::AffineNet& net, const Box& box, const NetBounds& nb,
                           const Eigen::MatrixXd& C, const Splits& splits,
                           const AlphaCrownOptions& opt, Slopes* alpha, Slopes* beta,
                           std::vector<Eigen::MatrixXd>* lamOut = nullptr,
                           const WeightProducts* wp = nullptr);

/// One sub-domain of a batch (betaCrownBounds): betaCrownBound's arguments by pointer (box, nb,
/// C and splits required; alpha, beta, lamOut may be null, as there).
struct BetaCrownQuery {
  const Box* box = nullptr;
  const NetBounds* nb = nullptr;
  const Eigen::MatrixXd* C = nullptr;
  const Splits* splits = nullptr;
  Slopes* alpha = nullptr;
  Slopes* beta = nullptr;
  std::vector<Eigen::MatrixXd>* lamOut = nullptr;
  /// Optional (null: none), one entry per row of C: the domain takes no more steps once every
  /// row's bound exceeds its entry (e.g. the property's d of C y <= d: the domain is then
  /// verified and further steps cannot change that). Only the step count depends on it: the
  /// returned bound is computed from the best values as always.
  const Eigen::VectorXd* stopAbove = nullptr;
};

/// betaCrownBound on many sub-domains at once: the same optimisation per row (every row has its
/// own slopes, multipliers and Adam moments, so the rows of different domains do not interact),
/// with each step's bound computed by outputLowerBounds (one product per layer for the stacked
/// rows of every domain) and the forward pass of the adjoint likewise stacked. A domain with
/// nothing to optimise (no unstable ReLU, no split) takes no steps, as in betaCrownBound, and a
/// domain whose every row has passed its stopAbove entry takes no more (the others go on, so
/// more steps cost little on the domains they are not needed for). Sound like betaCrownBound:
/// every returned bound is bounds.h's with the values picked.
std::vector<LinearLower> betaCrownBounds(const neural::AffineNet& net,
                                         const std::vector<BetaCrownQuery>& queries,
                                         const AlphaCrownOptions& opt,
                                         const WeightProducts* wp = nullptr);

/// alpha-CROWN's optimised lower bound of the rows of C * h_k, layer k's pre-activation (before
/// its ReLU): the optimisation above on the network's first k + 1 layers, with nb's bounds of the
/// layers below k. Sound for any slopes, like the output bound (its rounding is bounds.h's).
LinearLower alphaCrownPreActivationBound(const neural::AffineNet& net, int k, const Box& box,
                                         const NetBounds& nb, const Eigen::MatrixXd& C,
                                         const AlphaCrownOptions& opt,
                                         const WeightProducts* wp = nullptr);

/// Tightens the unstable neurons of layer k of nb (lo < 0 < hi) in place by
/// alpha-CROWN on +h_kj and -h_kj (each row with its own slopes, as alpha,beta-CROWN does for
/// the intermediate layers at the root), intersected with the bounds already there; nb.infeasible
/// is set if a neuron's range becomes empty. Layers below k are used as they are. Returns the
/// number of neurons whose bounds tightened.
int tightenLayerByAlphaCrown(const neural::AffineNet& net, const Box& box, NetBounds& nb, int k,
                             const AlphaCrownOptions& opt, const WeightProducts* wp = nullptr);

/// tightenLayerByAlphaCrown on every ReLU layer above the first (whose bounds from the box are
/// exact), bottom up: each layer's optimisation uses the layers below as already tightened.
/// Never looser than nb's bounds on entry (each neuron keeps the tighter of the two); stops at
/// an infeasible layer. Returns the number of neurons whose bounds tightened.
int tightenLayersByAlphaCrown(const neural::AffineNet& net, const Box& box, NetBounds& nb,
                              const AlphaCrownOptions& opt, const WeightProducts* wp = nullptr);

/// The pre-activation bounds of a sub-domain of ReLU phase splits from those of a domain that
/// contains it (its parent in branch and bound; sound there, so on the sub-domain too): the
/// parent's bounds clamped by `splits` (active: lo >= 0, inactive: hi <= 0), then the still
/// unstable neurons of each ReLU layer k >= max(1, firstLayer), bottom up, bounded afresh by
/// back-substitution (CROWN, DeepPoly's slopes) through the clamped and already tightened layers
/// below and intersected with what is there (a split neuron is stable after the clamp, so it is
/// relaxed as its phase). A layer's bounds depend only on the layers below it: firstLayer = one
/// above the lowest split not yet reflected in `parent` loses nothing, and firstLayer >= the
/// layer count only clamps. Never looser than the parent's clamped bounds; infeasible is set when
/// a clamp or a tightening leaves an empty range.
NetBounds subdomainBounds(const neural::AffineNet& net, const Box& box, const NetBounds& parent,
                          const Splits& splits, int firstLayer,
                          const WeightProducts* wp = nullptr);

} // namespace chassis::verifier
