// The domain LP (lp_relaxation.h): its certified bound never exceeds a value the network takes
// on the domain (sampled, also under phase splits), it is close to GLPK's own optimum (so the
// duals are used with the right signs) and at least CROWN's bound up to rounding (the Planet
// relaxation is the tightest convex one for the same intermediate bounds); its case verdict
// agrees with the exact Z3 encoding on random small networks (both verdicts occur).
#include "neural/affine_net.h"
#include "spec/rng.h"
#include "verifier/bounds.h"
#include "verifier/lp_relaxation.h"
#include "verifier/problem.h"
#include "verifier/z3_encoder.h"

#include "random_net_test_util.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace chassis;
using namespace chassis::verifier;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

/// Boxes of width width x (0.1 + uniform) per input.
Box randomBox(Rng& rng, int n, double width) {
  return testing::randomBox(rng, n, width, 0.1);
}

VectorXd randomPoint(Rng& rng, const Box& b) {
  VectorXd x(b.lo.size());
  for (Eigen::Index i = 0; i < x.size(); ++i)
    x[i] = std::clamp(b.lo[i] + rng.uniform() * (b.hi[i] - b.lo[i]), b.lo[i], b.hi[i]);
  return x;
}

/// Whether x's pre-activations respect the splits (h >= 0 where +1, h <= 0 where -1).
bool satisfiesSplits(const neural::AffineNet& net, const Splits& splits, const VectorXd& x) {
  VectorXd y = x;
  for (size_t k = 0; k < net.layers.size(); ++k) {
    VectorXd h = net.layers[k].W * y + net.layers[k].b;
    if (k < splits.size() && !splits[k].empty())
      for (Eigen::Index j = 0; j < h.size(); ++j)
        if ((splits[k][j] > 0 && h[j] < 0) || (splits[k][j] < 0 && h[j] > 0)) return false;
    y = net.layers[k].relu ? VectorXd(h.cwiseMax(0.0)) : h;
  }
  return true;
}

} // namespace

TEST_CASE("the LP's certified bound is below every sampled value, near GLPK's optimum and "
          "at least CROWN's",
          "[verifier][lp]") {
  Rng rng(2024);
  int nets = 0, nearOptimum = 0, atLeastCrown = 0, violations = 0;
  for (int t = 0; t < 40; ++t) {
    const int in = t % 4 == 0 ? 100 : 1 + static_cast<int>(rng.uniform() * 8);
    const int hidden = 1 + t % 3, width = hidden == 1 ? 40 : (hidden == 2 ? 24 : 16);
    auto net = testing::randomReluNet(rng, in, hidden, width, 3, 1.5, 0.3);
    Box box = randomBox(rng, in, in > 10 ? 0.05 : 0.6);
    NetBounds nb = symbolicBounds(net, box);
    LpRelaxation lp(net, box, nb);
    REQUIRE(lp.ok());
    Eigen::RowVectorXd c(3);
    c << rng.normal(), rng.normal(), rng.normal();
    LpCaseResult r = lp.minimise(c, 0);
    REQUIRE(r.solved);
    ++nets;
    const double scale = 1.0 + std::fabs(r.lpValue);
    CHECK(r.certified <= r.lpValue + 1e-9 * scale);
    if (r.certified >= r.lpValue - 1e-6 * scale) ++nearOptimum;
    LinearLower crown = outputLowerBound(net, box, nb, c);
    if (r.certified >= crown.lower[0] - 1e-6 * scale) ++atLeastCrown;
    double minSeen = INFINITY;
    for (int s = 0; s < 2000; ++s) {
      VectorXd x = s == 0 && r.x.size() == in ? r.x : randomPoint(rng, box);
      minSeen = std::min(minSeen, c.dot(net.forward(x)));
    }
    if (r.certified > minSeen) ++violations;
  }
  CHECK(violations == 0);
  CHECK(nearOptimum == nets);
  CHECK(atLeastCrown == nets);
}

TEST_CASE("the LP's certified bound holds on split sub-domains", "[verifier][lp]") {
  Rng rng(99);
  int checked = 0, violations = 0;
  for (int t = 0; t < 30; ++t) {
    const int in = 2 + t % 3;
    auto net = testing::randomReluNet(rng, in, 2, 12, 2, 1.5, 0.3);
    Box box = randomBox(rng, in, 1.0);
    NetBounds nb0 = symbolicBounds(net, box);
    // Split up to three unstable neurons, each to the phase of a random point (so the
    // sub-domain is not empty).
    VectorXd anchor = randomPoint(rng, box);
    Splits splits(net.layers.size());
    VectorXd y = anchor;
    int made = 0;
    for (size_t k = 0; k < net.layers.size() && made < 3; ++k) {
      VectorXd h = net.layers[k].W * y + net.layers[k].b;
      if (net.layers[k].relu) {
        splits[k].assign(static_cast<size_t>(h.size()), 0);
        for (Eigen::Index j = 0; j < h.size() && made < 3; ++j)
          if (nb0.lo[k][j] < 0 && nb0.hi[k][j] > 0 && rng.uniform() < 0.3) {
            splits[k][j] = h[j] >= 0 ? 1 : -1;
            ++made;
          }
      }
      y = net.layers[k].relu ? VectorXd(h.cwiseMax(0.0)) : h;
    }
    NetBounds nb = symbolicBounds(net, box, splits);
    REQUIRE_FALSE(nb.infeasible); // the anchor is in the sub-domain
    LpRelaxation lp(net, box, nb);
    REQUIRE(lp.ok());
    Eigen::RowVectorXd c(2);
    c << rng.normal(), rng.normal();
    LpCaseResult r = lp.minimise(c, 0);
    REQUIRE(r.solved);
    int inside = 0;
    for (int s = 0; s < 4000; ++s) {
      VectorXd x = s == 0 ? anchor : randomPoint(rng, box);
      if (!satisfiesSplits(net, splits, x)) continue;
      ++inside;
      if (c.dot(net.forward(x)) < r.certified) ++violations;
    }
    checked += inside > 0;
  }
  CHECK(checked == 30);
  CHECK(violations == 0);
}

TEST_CASE("the LP's case verdict never contradicts the exact Z3 encoding", "[verifier][lp]") {
  Rng rng(31337);
  int provedSafe = 0, z3Sat = 0, z3Unsat = 0, wrong = 0;
  for (int t = 0; t < 40; ++t) {
    const int in = t % 5 == 0 ? 100 : 2 + t % 4;
    // up to 24 ReLUs (Z3 answers within seconds); the 100-input ones one small layer
    const int hidden = in == 100 ? 1 : 1 + t % 2;
    const int width = in == 100 ? 8 : (hidden == 1 ? 24 : 12);
    auto net = testing::randomReluNet(rng, in, hidden, width, 2, 1.5, 0.3);
    CaseSpec cs;
    cs.box = randomBox(rng, in, in == 100 ? 0.02 : 0.5);
    const int rows = 1 + t % 2; // one constraint, or a conjunction of two
    cs.C = MatrixXd(rows, 2);
    cs.d = VectorXd(rows);
    for (int q = 0; q < rows; ++q) {
      cs.C.row(q) << rng.normal(), rng.normal();
      double lo = INFINITY, hi = -INFINITY;
      for (int s = 0; s < 50; ++s) {
        double v = cs.C.row(q).dot(net.forward(randomPoint(rng, cs.box)));
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      // The violation set {C y <= d}: d near or below the sampled minimum.
      cs.d[q] = lo - (hi - lo + 0.05) * (rng.uniform() * 0.5 - (rows == 2 ? 0.3 : 0.0));
    }
    NetBounds nb = symbolicBounds(net, cs.box);
    LpRelaxation lp(net, cs.box, nb);
    REQUIRE(lp.ok());
    LpCaseResult r = lp.caseMargin(cs.C, cs.d, 0);
    REQUIRE(r.solved);
    Z3Encoder z3(net);
    LeafResult z = z3.solveDomain(cs, cs.box, nb, 8); // exact, with the bounds as hints
    if (z.status == Verdict::Unknown) continue; // Z3 timed out: no reference verdict
    if (z.status == Verdict::Violated) ++z3Sat;
    else ++z3Unsat;
    if (r.certified > 0) {
      ++provedSafe;
      if (z.status == Verdict::Violated) ++wrong;
    }
  }
  CHECK(wrong == 0);
  CHECK(z3Sat + z3Unsat >= 25);
  CHECK(z3Sat > 0);
  CHECK(z3Unsat > 0);
  CHECK(provedSafe > 0);
}
