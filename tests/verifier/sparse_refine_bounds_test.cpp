// ForwardBounder::refine (back-substitution whose objectives span only the neurons they depend
// on, for networks with sparse layers such as TLL's) against bounds.h's refineBounds (objectives
// over whole layers): the same bounds up to the summation order, tighter than the forward bounds
// it starts from, and containing the network's pre-activations at sampled points. Also the
// sparse path of the interval-gradient smear against a dense reference.
#include "neural/affine_net.h"
#include "spec/rng.h"
#include "verifier/bounds.h"
#include "verifier/nv_forward.h"

#include "random_net_test_util.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace chassis;
using namespace chassis::verifier;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

/// A random net of 2 inputs whose hidden-to-hidden weights are `zeros` zeros; with
/// `linearMiddle`, its second hidden layer has no ReLU.
neural::AffineNet sparseNet(Rng& rng, int width, int hidden, double zeros, bool linearMiddle) {
  auto net = testing::randomReluNet(rng, 2, hidden, width, 1, 3.0, 0.3);
  for (size_t k = 1; k + 1 < net.layers.size(); ++k)
    for (Eigen::Index i = 0; i < net.layers[k].W.size(); ++i)
      if (rng.uniform() < zeros) net.layers[k].W.data()[i] = 0.0;
  if (linearMiddle && net.layers.size() > 3) net.layers[1].relu = false;
  return net;
}

Box boxAround(Rng& rng, double width) {
  Box box{VectorXd(2), VectorXd(2)};
  for (int i = 0; i < 2; ++i) {
    box.lo[i] = 2 * rng.uniform() - 1;
    box.hi[i] = box.lo[i] + width * (0.2 + rng.uniform());
  }
  return box;
}

} // namespace

TEST_CASE("compact refinement equals refineBounds on sparse networks",
          "[verifier][bounds][sparse]") {
  Rng rng(2024);
  int compared = 0, tightened = 0, violations = 0;
  double worst = 0;
  for (int t = 0; t < 8; ++t) {
    auto net = sparseNet(rng, 100 + 20 * (t % 3), 4, t % 2 ? 0.95 : 0.97, t % 4 == 3);
    ForwardBounder fb(net);
    REQUIRE(fb.hasSparseLayer());
    const Box box = boxAround(rng, t % 2 ? 0.5 : 2.0);
    NetBounds fwd;
    fb.bound(box, fwd);
    NetBounds viaLayers = fwd, viaCones = fwd;
    refineBounds(net, box, viaLayers);
    fb.refine(box, viaCones);
    for (size_t k = 0; k < net.layers.size(); ++k)
      for (Eigen::Index j = 0; j < fwd.lo[k].size(); ++j) {
        const double scale = 1.0 + std::max(std::fabs(viaLayers.lo[k][j]),
                                             std::fabs(viaLayers.hi[k][j]));
        worst = std::max(worst, std::fabs(viaCones.lo[k][j] - viaLayers.lo[k][j]) / scale);
        worst = std::max(worst, std::fabs(viaCones.hi[k][j] - viaLayers.hi[k][j]) / scale);
        if (viaCones.lo[k][j] > fwd.lo[k][j] || viaCones.hi[k][j] < fwd.hi[k][j]) ++tightened;
        ++compared;
      }
    for (int s = 0; s < 300; ++s) {
      VectorXd x(2);
      for (int i = 0; i < 2; ++i)
        x[i] = std::clamp(box.lo[i] + rng.uniform() * (box.hi[i] - box.lo[i]), box.lo[i],
                          box.hi[i]);
      const auto pre = testing::preActivations(net, x);
      for (size_t k = 0; k < pre.size(); ++k)
        for (Eigen::Index j = 0; j < pre[k].size(); ++j)
          if (pre[k][j] < viaCones.lo[k][j] || pre[k][j] > viaCones.hi[k][j]) ++violations;
    }
  }
  CHECK(compared > 1000);
  CHECK(tightened > 0); // the refinement did something to compare
  CHECK(worst <= 1e-12);
  CHECK(violations == 0);
}

TEST_CASE("compact refinement bounds a dense network like refineBounds",
          "[verifier][bounds][sparse]") {
  // No layer is sparse (hasSparseLayer false), but refine() is exact for any network.
  Rng rng(31);
  auto net = testing::randomReluNet(rng, 2, 3, 30, 1, 3.0, 0.3);
  ForwardBounder fb(net);
  CHECK_FALSE(fb.hasSparseLayer());
  const Box box = boxAround(rng, 1.5);
  NetBounds fwd;
  fb.bound(box, fwd);
  NetBounds viaLayers = fwd, viaCones = fwd;
  refineBounds(net, box, viaLayers);
  fb.refine(box, viaCones);
  double worst = 0;
  for (size_t k = 0; k < net.layers.size(); ++k)
    for (Eigen::Index j = 0; j < fwd.lo[k].size(); ++j) {
      const double scale =
          1.0 + std::max(std::fabs(viaLayers.lo[k][j]), std::fabs(viaLayers.hi[k][j]));
      worst = std::max(worst, std::fabs(viaCones.lo[k][j] - viaLayers.lo[k][j]) / scale);
      worst = std::max(worst, std::fabs(viaCones.hi[k][j] - viaLayers.hi[k][j]) / scale);
    }
  CHECK(worst <= 1e-12);
}

TEST_CASE("interval-gradient smear on sparse layers equals the dense sums",
          "[verifier][bounds][sparse]") {
  Rng rng(9);
  auto net = sparseNet(rng, 120, 3, 0.97, false);
  ForwardBounder fb(net);
  REQUIRE(fb.hasSparseLayer());
  const Box box = boxAround(rng, 1.0);
  NetBounds nb;
  fb.bound(box, nb);
  Eigen::RowVectorXd c(1);
  c << -1.0;
  VectorXd smear = VectorXd::Zero(2);
  fb.gradientSmear(box, nb, c, smear);
  // Reference: the interval of each partial derivative, propagated through the dense weights.
  VectorXd gl = c.transpose(), gu = gl;
  for (int k = static_cast<int>(net.layers.size()) - 1; k >= 0; --k) {
    const MatrixXd& W = net.layers[k].W;
    VectorXd nl = VectorXd::Zero(W.cols()), nu = VectorXd::Zero(W.cols());
    for (Eigen::Index j = 0; j < W.cols(); ++j)
      for (Eigen::Index i = 0; i < W.rows(); ++i) {
        const double a = gl[i] * W(i, j), b = gu[i] * W(i, j);
        nl[j] += std::min(a, b);
        nu[j] += std::max(a, b);
      }
    if (k > 0 && net.layers[k - 1].relu)
      for (Eigen::Index j = 0; j < W.cols(); ++j) {
        const double l = nb.lo[k - 1][j], u = nb.hi[k - 1][j];
        if (u <= 0) {
          nl[j] = nu[j] = 0.0;
        } else if (l < 0) {
          nl[j] = std::min(0.0, nl[j]);
          nu[j] = std::max(0.0, nu[j]);
        }
      }
    gl = nl;
    gu = nu;
  }
  for (int i = 0; i < 2; ++i) {
    const double ref = (gu[i] - gl[i]) * (box.hi[i] - box.lo[i]);
    CHECK(ref > 0);
    CHECK(std::fabs(smear[i] - ref) <= 1e-12 * (1.0 + std::fabs(ref)));
  }
}
