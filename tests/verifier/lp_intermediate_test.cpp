// Intermediate bounds tightened by certified LPs (verifier/lp_intermediate.h) on random dense
// nets and small convolutional nets (a 3x3 convolution stored as a dense matrix): (1) the
// tightened bounds contain the pre-activations of thousands of sampled inputs (uniform points
// and corners), are never looser than the bounds they started from, and tighten some of them;
// with two threads and with one, the same certified bounds up to GLPK's path; (2) the search
// with the root's bounds tightened by LP forced on (every net, however small; random dense
// nets, cases near their minimum so that roots stay undecided) agrees with Z3's exact verdict
// and replays every counterexample.
#include "neural/affine_net.h"
#include "spec/rng.h"
#include "spec/vnnlib.h"
#include "verifier/alpha_crown.h"
#include "verifier/beta_crown.h"
#include "verifier/bounds.h"
#include "verifier/lp_intermediate.h"
#include "verifier/network_verifier.h"
#include "verifier/problem.h"
#include "verifier/vnnlib_query.h"

#include "random_net_test_util.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

using namespace chassis;
using namespace chassis::verifier;
using chassis::testing::pointOrCorner;
using chassis::testing::preActivations;
using chassis::testing::randomBox;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

/// A ReLU layer computing a 3x3 convolution (stride 1, no padding) of a c x s x s image into
/// f x (s-2) x (s-2), stored dense (channel-major, as the ONNX import stores a Conv).
neural::AffineLayer convLayer(Rng& rng, int c, int s, int f) {
  const int o = s - 2;
  neural::AffineLayer L;
  L.W = MatrixXd::Zero(f * o * o, c * s * s);
  L.b.resize(f * o * o);
  const double sd = 1.4 / std::sqrt(9.0 * c);
  for (int q = 0; q < f; ++q) {
    std::vector<double> kernel(static_cast<size_t>(c * 9));
    for (auto& w : kernel) w = sd * rng.normal();
    const double bias = 0.2 * rng.normal();
    for (int y = 0; y < o; ++y)
      for (int x = 0; x < o; ++x) {
        const int row = (q * o + y) * o + x;
        L.b[row] = bias;
        for (int ch = 0; ch < c; ++ch)
          for (int dy = 0; dy < 3; ++dy)
            for (int dx = 0; dx < 3; ++dx)
              L.W(row, (ch * s + y + dy) * s + x + dx) = kernel[static_cast<size_t>((ch * 3 + dy) * 3 + dx)];
      }
  }
  L.relu = true;
  return L;
}

/// conv (2 x 6 x 6 -> 3 x 4 x 4) -> conv (-> 4 x 2 x 2) -> dense 12 (ReLU) -> `out` outputs.
neural::AffineNet smallConvNet(Rng& rng, int out) {
  neural::AffineNet net;
  net.inputSize = 2 * 6 * 6;
  net.layers.push_back(convLayer(rng, 2, 6, 3));
  net.layers.push_back(convLayer(rng, 3, 4, 4));
  auto dense = testing::randomReluNet(rng, 16, 1, 12, out, 1.5, 0.3);
  for (auto& L : dense.layers) net.layers.push_back(std::move(L));
  return net;
}

std::chrono::steady_clock::time_point in(double seconds) {
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
             std::chrono::duration<double>(seconds));
}

} // namespace

TEST_CASE("LP-tightened intermediate bounds contain sampled pre-activations and are never "
          "looser than the bounds they start from",
          "[verifier][bounds][lp]") {
  Rng rng(1913);
  int nets = 0, points = 0, violations = 0, looser = 0, stabilised = 0;
  long tightened = 0, threadMismatch = 0;
  for (int t = 0; t < 12; ++t) {
    const bool conv = t % 3 == 2;
    auto net = conv ? smallConvNet(rng, 3)
                    : testing::randomReluNet(rng, 4 + t % 4, 3 + t % 2, 10 + t % 5, 2, 1.6, 0.3);
    const Box box = randomBox(rng, net.inputSize, conv ? 0.4 : 1.0);
    // The search's root bounds: CROWN, alpha-CROWN on the last ReLU layer.
    NetBounds start = symbolicBounds(net, box);
    REQUIRE_FALSE(start.infeasible);
    AlphaCrownOptions ao;
    ao.iterations = 10;
    int lastRelu = -1;
    for (int k = 0; k < static_cast<int>(net.layers.size()); ++k)
      if (net.layers[static_cast<size_t>(k)].relu) lastRelu = k;
    tightenLayerByAlphaCrown(net, box, start, lastRelu, ao);
    REQUIRE_FALSE(start.infeasible);
    NetBounds two = start, one = start;
    const LpTightenStats st = tightenLastLayersByLp(net, box, two, 2, in(30), 2);
    tightenLastLayersByLp(net, box, one, 2, in(30), 1);
    REQUIRE_FALSE(two.infeasible); // the box is not empty
    CHECK(st.complete);
    CHECK(st.solved == st.tasks);
    stabilised += st.unstableBefore - st.unstableAfter;
    ++nets;
    for (size_t k = 0; k < two.lo.size(); ++k)
      for (Eigen::Index j = 0; j < two.lo[k].size(); ++j) {
        if (two.lo[k][j] < start.lo[k][j] || two.hi[k][j] > start.hi[k][j]) ++looser;
        if (two.lo[k][j] > start.lo[k][j] || two.hi[k][j] < start.hi[k][j]) ++tightened;
        // Each thread's GLPK path may differ (warm starts), the LP optimum does not.
        const double tol = 1e-6 * (1 + std::fabs(two.hi[k][j] - two.lo[k][j]));
        if (std::fabs(two.lo[k][j] - one.lo[k][j]) > tol ||
            std::fabs(two.hi[k][j] - one.hi[k][j]) > tol)
          ++threadMismatch;
      }
    for (int s = 0; s < 2000; ++s) {
      const auto pre = preActivations(net, pointOrCorner(rng, box, s, 4));
      ++points;
      for (size_t k = 0; k < pre.size(); ++k)
        for (Eigen::Index j = 0; j < pre[k].size(); ++j) {
          const double slack = 1e-9 * (1 + std::fabs(pre[k][j])); // pre's float64 rounding
          if (pre[k][j] < two.lo[k][j] - slack || pre[k][j] > two.hi[k][j] + slack) ++violations;
        }
    }
  }
  INFO(nets << " nets, " << points << " points, " << tightened << " neurons tightened, "
            << stabilised << " ReLUs made stable");
  CHECK(violations == 0);
  CHECK(looser == 0);
  CHECK(threadMismatch == 0);
  CHECK(nets == 12);
  CHECK(tightened > 0);
}

TEST_CASE("LP tightening stops at its deadline and leaves the bounds sound",
          "[verifier][bounds][lp]") {
  Rng rng(77);
  auto net = testing::randomReluNet(rng, 6, 3, 30, 2, 1.6, 0.3);
  const Box box = randomBox(rng, 6, 1.0);
  const NetBounds start = symbolicBounds(net, box);
  NetBounds nb = start;
  // A deadline already passed: nothing solved, nothing changed.
  const LpTightenStats st =
      tightenLastLayersByLp(net, box, nb, 2, std::chrono::steady_clock::now(), 2);
  CHECK(st.solved == 0);
  CHECK_FALSE(st.complete);
  for (size_t k = 0; k < nb.lo.size(); ++k) {
    CHECK(nb.lo[k] == start.lo[k]);
    CHECK(nb.hi[k] == start.hi[k]);
  }
}

TEST_CASE("ReLU splitting with the root's bounds tightened by LP agrees with exact Z3",
          "[verifier][z3][lp]") {
  Rng rng(5077);
  int referenced = 0, sats = 0, unsats = 0, wrong = 0, decided = 0, withLp = 0;
  for (int t = 0; t < 8; ++t) {
    // rhs at least 30% of the way from CROWN's bound to the least of 60 sampled values (every
    // fourth a corner).
    const auto c = testing::netNearMinimumWithZ3(
        rng, 4 + t % 4, 3, 6 + t % 3, {.samples = 60, .cornerEvery = 4, .from = 0.3, .to = 1.0});
    if (!c.z3Violated) continue; // Z3 timed out: no reference verdict
    ++referenced;
    const bool refSat = *c.z3Violated;
    (refSat ? sats : unsats) += 1;
    NetVerifyOptions o;
    o.timeoutSec = 20;
    o.seed = 5 + t;
    o.attack = false; // the search decides
    o.inputSplitMaxDim = 0; // ReLU splitting
    o.leafMaxNeurons = 0;   // the bounds decide, not Z3 leaves
    o.maxDepth = 40;
    o.rootLpLayers = 2;     // the root's LP tightening forced on, on every net
    o.rootLpMinRelus = 0;
    o.rootLpShare = 0.25;
    auto r = verifyNetwork(c.net, toNetworkQuery(c.prop), o);
    REQUIRE(r);
    INFO("net " << t << ": " << vnncompName(r->verdict) << " (" << r->reason << ", "
                << r->domains << " domains, root LP: " << r->rootLp << "), Z3 "
                << (refSat ? "sat" : "unsat"));
    if (!r->rootLp.empty()) ++withLp;
    if (testing::checkAgainstZ3(*r, c, wrong)) ++decided;
  }
  INFO("referenced " << referenced << " (sat " << sats << ", unsat " << unsats << "); decided "
                     << decided << ", root tightened by LP on " << withLp);
  CHECK(wrong == 0);
  CHECK(referenced >= 5);
  CHECK(sats >= 1);
  CHECK(unsats >= 2);
  CHECK(withLp >= 2); // undecided roots (the others are decided by their first bounds)
  CHECK(2 * decided >= referenced);
}
