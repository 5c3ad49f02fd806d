// Optimised linear output bounds (alpha-CROWN, Xu et al. 2021) on an AffineNet over a box with
// fixed pre-activation bounds nb (e.g. symbolicBounds, possibly under ReLU phase splits).
//
// Maths. Back-substitution (bounds.h) bounds a row c of C y from below by relaxing every
// unstable ReLU (l < 0 < u): where the row's coefficient on z = relu(h) is negative the upper
// side z <= s (h - l) is used, where it is >= 0 a lower side z >= a h, which is valid for EVERY
// a in [0, 1]. So each row r and unstable neuron j has its own slope a_rj, and every choice
// gives a sound bound B_r(a) = min_x (A_r(a) x + c_r(a)) - err_r. B_r is piecewise linear in a;
// at a point where the minimising corner x* and the signs are fixed, its gradient follows from
// the chain rule through the back-substitution (reverse mode of a reverse pass = a forward
// pass): with z^_{-1} = x*, h^_k = W_k z^_{k-1} + b_k, and z^_kj = a_rj h^_kj (lower side used),
// s_j h^_kj - s_j l_j (upper side), h^_kj (active), 0 (inactive), the derivative is
//   dB_r / da_rj = Lambda_rj h^_kj,   Lambda_rj >= 0 the row's coefficient on z_kj.
// Projected gradient ascent (Adam, projection onto [0, 1]) raises every row's bound; the best
// slopes seen per row are kept (the rows are independent), and the returned bound is computed
// afresh with them by bounds.h, so its soundness (outward rounding included) is bounds.h's: the
// optimisation only picks the slopes. The intermediate bounds nb are not re-optimised here.
#pragma once

#include "neural/affine_net.h"
#include "verifier/bounds.h"

#include <Eigen/Dense>

#include <vector>

namespace chassis::verifier {

struct AlphaCrownOptions {
  int iterations = 20; // gradient steps (0: DeepPoly's bound with the given or default slopes)
  double lr = 0.25;    // Adam's step on the slopes
  double betaLr = 0.1; // beta_crown.h: Adam's step on the split multipliers (times the row's
                       // largest |coefficient| on the layer)
};

/// The optimised bound of the rows of C * output over the domain of nb. `alpha` (may be null):
/// in, the starting slopes (entries of the right size warm-start, e.g. a parent domain's;
/// others start at DeepPoly's 0/1 choice); out, the best slopes per row. `lamOut` (may be null):
/// the objective over each layer's output under the returned slopes (see outputLowerBound).
LinearLower alphaCrownBound(const neural::AffineNet& net, const Box& box, const NetBounds& nb,
                            const Eigen::MatrixXd& C, const AlphaCrownOptions& opt,
                            Slopes* alpha = nullptr,
                            std::vector<Eigen::MatrixXd>* lamOut = nullptr,
                            const WeightProducts* wp = nullptr);

} // namespace chassis::verifier
