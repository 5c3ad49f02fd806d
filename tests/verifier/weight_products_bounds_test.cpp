// The bound computations' prepared weight products (verifier/bounds.h WeightProducts: sparse
// copies of layers under 10% non-zero, as convolutions imported as dense matrices are) and
// alpha-CROWN on intermediate pre-activations (beta_crown.h alphaCrownPreActivationBound,
// tightenLayerByAlphaCrown): (1) every product agrees with the dense one; (2) on random nets
// with sparse conv-like layers, the bounds computed through them contain the network's values at
// sampled points and corners of the box; (3) the optimised pre-activation bounds contain the
// sampled pre-activations, are never looser than DeepPoly's, and tighten some neurons.
#include "neural/affine_net.h"
#include "spec/rng.h"
#include "verifier/alpha_crown.h"
#include "verifier/beta_crown.h"
#include "verifier/bounds.h"

#include "random_net_test_util.h"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace chassis;
using namespace chassis::verifier;
using chassis::testing::pointOrCorner;
using chassis::testing::preActivations;
using chassis::testing::randomBox;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

/// A random ReLU net whose first two layers keep each weight with probability `keep` (sparse,
/// like a convolution stored dense), scaled so the pre-activations stay of order one.
neural::AffineNet sparseConvLikeNet(Rng& rng, int in, int width, double keep) {
  auto net = testing::randomReluNet(rng, in, 3, width, 4, 1.0, 0.3);
  for (size_t k = 0; k < 2; ++k) {
    MatrixXd& W = net.layers[k].W;
    for (Eigen::Index i = 0; i < W.size(); ++i)
      W.data()[i] = rng.uniform() < keep ? W.data()[i] / std::sqrt(keep) : 0.0;
  }
  return net;
}

} // namespace

TEST_CASE("prepared weight products agree with the dense ones", "[verifier][bounds][sparse]") {
  Rng rng(11);
  auto net = sparseConvLikeNet(rng, 96, 128, 0.05);
  const WeightProducts wp(net);
  REQUIRE(wp.sparse(0));
  REQUIRE(wp.sparse(1));
  REQUIRE_FALSE(wp.sparse(3)); // 4 x 128: too small to pay for a sparse copy
  for (int k = 0; k < static_cast<int>(net.layers.size()); ++k) {
    const MatrixXd& W = net.layers[static_cast<size_t>(k)].W;
    const MatrixXd Lam = MatrixXd::Random(9, W.rows());
    const MatrixXd Z = MatrixXd::Random(7, W.cols());
    const VectorXd p = VectorXd::Random(W.cols()), q = VectorXd::Random(W.cols());
    const double tol = 1e-12 * (1.0 + W.cwiseAbs().maxCoeff()) * static_cast<double>(W.size());
    CHECK((wp.leftTimes(k, Lam) - Lam * W).cwiseAbs().maxCoeff() <= tol);
    CHECK((wp.rowsThrough(k, Z) - Z * W.transpose()).cwiseAbs().maxCoeff() <= tol);
    CHECK((wp.absTimes(k, p) - W.cwiseAbs() * p).cwiseAbs().maxCoeff() <= tol);
    const MatrixXd M = MatrixXd::Random(W.cols(), 5);
    const MatrixXd absWM = wp.absTimesColumns(k, M);
    REQUIRE(absWM.rows() == W.rows());
    REQUIRE(absWM.cols() == 5);
    CHECK((absWM - W.cwiseAbs() * M).cwiseAbs().maxCoeff() <= tol);
    const VectorXd split = W.cwiseMax(0.0) * p + W.cwiseMin(0.0) * q;
    CHECK((wp.signSplitTimes(k, p, q) - split).cwiseAbs().maxCoeff() <= tol);
  }
}

TEST_CASE("bounds through sparse products contain sampled values", "[verifier][bounds][sparse]") {
  Rng rng(2026);
  int violations = 0, checked = 0;
  for (int t = 0; t < 4; ++t) {
    auto net = sparseConvLikeNet(rng, 96, 128, 0.06);
    const WeightProducts wp(net);
    REQUIRE(wp.sparse(0));
    const Box box = randomBox(rng, 96, 0.05);
    const NetBounds nb = symbolicBounds(net, box, {}, &wp);
    REQUIRE_FALSE(nb.infeasible);
    MatrixXd C = MatrixXd::Random(3, 4);
    AlphaCrownOptions ao;
    const LinearLower dp = outputLowerBound(net, box, nb, C, nullptr, nullptr, nullptr, nullptr,
                                            &wp);
    const LinearLower ac = alphaCrownBound(net, box, nb, C, ao, nullptr, nullptr, &wp);
    for (Eigen::Index r = 0; r < C.rows(); ++r) CHECK(ac.lower[r] >= dp.lower[r] - 1e-9);
    for (int s = 0; s < 300; ++s) {
      const VectorXd x = pointOrCorner(rng, box, s, 3);
      const auto pre = preActivations(net, x);
      for (size_t k = 0; k < pre.size(); ++k)
        for (Eigen::Index j = 0; j < pre[k].size(); ++j) {
          ++checked;
          if (pre[k][j] < nb.lo[k][j] || pre[k][j] > nb.hi[k][j]) ++violations;
        }
      const VectorXd cy = C * pre.back();
      for (Eigen::Index r = 0; r < C.rows(); ++r)
        if (cy[r] < dp.lower[r] || cy[r] < ac.lower[r]) ++violations;
    }
  }
  CHECK(checked > 0);
  CHECK(violations == 0);
}

TEST_CASE("alpha-CROWN pre-activation bounds contain sampled values and tighten DeepPoly's",
          "[verifier][bounds][alpha]") {
  Rng rng(404);
  int violations = 0, tightened = 0, looser = 0;
  for (int t = 0; t < 8; ++t) {
    // Dense nets (input 6) and sparse conv-like ones (input 96).
    const bool sparse = t % 2 == 1;
    auto net = sparse ? sparseConvLikeNet(rng, 96, 128, 0.06)
                      : testing::randomReluNet(rng, 6, 3, 24, 4, 1.6, 0.3);
    const Box box = randomBox(rng, net.inputSize, sparse ? 0.05 : 0.6);
    const WeightProducts wp(net);
    NetBounds nb = symbolicBounds(net, box, {}, &wp);
    REQUIRE_FALSE(nb.infeasible);
    const NetBounds before = nb;
    AlphaCrownOptions ao;
    // The pre-activation bound of random rows over h_2 against DeepPoly's.
    const MatrixXd C = MatrixXd::Random(5, nb.lo[2].size());
    const LinearLower dp = preActivationLowerBound(net, 2, box, nb, C, nullptr, nullptr,
                                                   nullptr, nullptr, &wp);
    const LinearLower ac = alphaCrownPreActivationBound(net, 2, box, nb, C, ao, &wp);
    for (Eigen::Index r = 0; r < C.rows(); ++r)
      if (ac.lower[r] < dp.lower[r] - 1e-9) ++looser;
    // Layers 1 and 2 (layer 0's interval bounds are exact) tightened bottom up.
    for (int k = 1; k <= 2; ++k) tightened += tightenLayerByAlphaCrown(net, box, nb, k, ao, &wp);
    REQUIRE_FALSE(nb.infeasible);
    for (size_t k = 0; k < nb.lo.size(); ++k)
      for (Eigen::Index j = 0; j < nb.lo[k].size(); ++j)
        if (nb.lo[k][j] < before.lo[k][j] || nb.hi[k][j] > before.hi[k][j]) ++looser;
    for (int s = 0; s < 400; ++s) {
      const VectorXd x = pointOrCorner(rng, box, s, 3);
      const auto pre = preActivations(net, x);
      for (size_t k = 0; k < pre.size(); ++k)
        for (Eigen::Index j = 0; j < pre[k].size(); ++j)
          if (pre[k][j] < nb.lo[k][j] || pre[k][j] > nb.hi[k][j]) ++violations;
      const VectorXd ch = C * pre[2];
      for (Eigen::Index r = 0; r < C.rows(); ++r)
        if (ch[r] < ac.lower[r] || ch[r] < dp.lower[r]) ++violations;
    }
  }
  CHECK(violations == 0);
  CHECK(looser == 0);
  CHECK(tightened > 0);
}
