// alpha-CROWN (verifier/alpha_crown.h) on random ReLU networks: (1) the optimised linear bound is
// sound at sampled points of the box, with and without ReLU phase splits (points checked only
// where they satisfy the splits), never below DeepPoly's bound, and above it on a good share of
// the rows; (2) the verifier in ReLU-splitting mode (alpha-CROWN bounds, the branching score)
// agrees with the naive Z3 encoding on random networks with 6 to 12 inputs.
#include "neural/affine_net.h"
#include "spec/vnnlib.h"
#include "verifier/alpha_crown.h"
#include "verifier/bounds.h"
#include "verifier/network_verifier.h"
#include "verifier/problem.h"
#include "verifier/vnnlib_query.h"

#include "random_net_test_util.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace chassis;
using namespace chassis::verifier;
using chassis::testing::preActivations;
using chassis::testing::randomBox;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

double gauss(SplitMix& r) {
  double u = r.uniform() + 1e-300, v = r.uniform();
  return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
}

neural::AffineNet randomNet(SplitMix& r, int nIn, std::vector<int> widths, int nOut) {
  neural::AffineNet net;
  net.inputSize = nIn;
  widths.push_back(nOut);
  int prev = nIn;
  for (size_t k = 0; k < widths.size(); ++k) {
    neural::AffineLayer L;
    L.W = MatrixXd(widths[k], prev);
    L.b = VectorXd(widths[k]);
    for (int i = 0; i < widths[k]; ++i) {
      for (int j = 0; j < prev; ++j)
        L.W(i, j) = gauss(r) / std::sqrt(double(prev));
      L.b[i] = 0.3 * gauss(r);
    }
    L.relu = k + 1 < widths.size();
    net.layers.push_back(L);
    prev = widths[k];
  }
  return net;
}

} // namespace

TEST_CASE("alpha-CROWN bounds are sound at sampled points and never below DeepPoly's",
          "[verifier][bounds][alpha]") {
  SplitMix r(2024);
  int rows = 0, improved = 0, checkedPoints = 0;
  for (int t = 0; t < 40; ++t) {
    const int nIn = 2 + static_cast<int>(r.next() % 10);
    auto net = randomNet(r, nIn,
                         {8 + static_cast<int>(r.next() % 16), 8 + static_cast<int>(r.next() % 16)},
                         1 + static_cast<int>(r.next() % 4));
    Box box = randomBox(r, nIn, 1.0);
    // Half the nets bound a sub-domain of phase splits (two unstable neurons of layer 1 fixed).
    Splits splits;
    NetBounds nb0 = symbolicBounds(net, box);
    if (t % 2 == 1) {
      splits.assign(net.layers.size(), {});
      splits[1].assign(nb0.lo[1].size(), 0);
      int fixedCount = 0;
      for (Eigen::Index j = 0; j < nb0.lo[1].size() && fixedCount < 2; ++j)
        if (nb0.lo[1][j] < 0 && nb0.hi[1][j] > 0) splits[1][j] = (fixedCount++ % 2) ? 1 : -1;
    }
    NetBounds nb = symbolicBounds(net, box, splits);
    if (nb.infeasible) continue;
    const int m = net.outputSize();
    MatrixXd C(2 * m, m);
    C << MatrixXd::Identity(m, m), -MatrixXd::Identity(m, m);
    LinearLower deep = outputLowerBound(net, box, nb, C);
    AlphaCrownOptions ao;
    ao.iterations = 30;
    Slopes alpha;
    std::vector<MatrixXd> lam;
    LinearLower opt = alphaCrownBound(net, box, nb, C, ao, &alpha, &lam);
    REQUIRE(lam.size() == net.layers.size());
    for (Eigen::Index i = 0; i < C.rows(); ++i) {
      ++rows;
      CHECK(opt.lower[i] >= deep.lower[i]);
      if (opt.lower[i] > deep.lower[i] + 1e-9 * (1 + std::fabs(deep.lower[i]))) ++improved;
    }
    for (size_t k = 0; k < alpha.size(); ++k)
      if (alpha[k].size() > 0) {
        CHECK(alpha[k].minCoeff() >= 0.0);
        CHECK(alpha[k].maxCoeff() <= 1.0);
      }
    int violations = 0;
    for (int s = 0; s < 2000; ++s) {
      VectorXd x(nIn);
      for (int i = 0; i < nIn; ++i)
        x[i] = box.lo[i] + r.uniform() * (box.hi[i] - box.lo[i]);
      if (s == 0) x = box.lo;
      auto pre = preActivations(net, x);
      bool inDomain = true;
      for (size_t k = 0; k < splits.size(); ++k)
        for (size_t j = 0; j < splits[k].size(); ++j) {
          if (splits[k][j] > 0 && pre[k][j] < 0) inDomain = false;
          if (splits[k][j] < 0 && pre[k][j] > 0) inDomain = false;
        }
      if (!inDomain) continue;
      ++checkedPoints;
      VectorXd cy = C * pre.back();
      for (Eigen::Index i = 0; i < cy.size(); ++i) {
        if (cy[i] < opt.lower[i]) ++violations;
        if (cy[i] < opt.A.row(i).dot(x) + opt.c[i] - 1e-9) ++violations;
      }
    }
    CHECK(violations == 0);
  }
  INFO(improved << " of " << rows << " rows improved");
  CHECK(checkedPoints > 20000);
  CHECK(improved * 4 >= rows); // the optimisation tightens at least a quarter of the rows
}

namespace {
spec::VnnProperty boxProperty(SplitMix& r, const neural::AffineNet& net, double width) {
  spec::VnnProperty p;
  p.numInputs = net.inputSize;
  p.numOutputs = net.outputSize();
  Box box = randomBox(r, net.inputSize, width);
  spec::VnnCase vc;
  for (int i = 0; i < net.inputSize; ++i) {
    vc.lo.push_back(box.lo[i]);
    vc.hi.push_back(box.hi[i]);
  }
  // y_1 - y_0 <= rhs, rhs below the smallest value seen at 50 random points (by a random
  // fraction of their spread): sometimes violated in a thin region, sometimes not at all.
  spec::OutputConstraint oc;
  oc.coef.assign(static_cast<size_t>(net.outputSize()), 0.0);
  oc.coef[0] = -1.0;
  oc.coef[1] = 1.0;
  double lo = INFINITY, hi = -INFINITY;
  for (int s = 0; s < 50; ++s) {
    VectorXd x(net.inputSize);
    for (int i = 0; i < net.inputSize; ++i)
      x[i] = box.lo[i] + r.uniform() * (box.hi[i] - box.lo[i]);
    VectorXd y = net.forward(x);
    lo = std::min(lo, y[1] - y[0]);
    hi = std::max(hi, y[1] - y[0]);
  }
  oc.rhs = lo - (hi - lo + 0.05) * (r.uniform() * 0.5 - 0.05);
  vc.constraints.push_back(oc);
  p.cases.push_back(vc);
  return p;
}
} // namespace

TEST_CASE("ReLU splitting with alpha-CROWN agrees with naive Z3 on nets with 6-12 inputs",
          "[verifier][z3][alpha]") {
  SplitMix r(99);
  int sat = 0, unsat = 0, undecided = 0, disagree = 0;
  for (int t = 0; t < 24; ++t) {
    const int nIn = 6 + static_cast<int>(r.next() % 7);
    auto net = randomNet(
        r, nIn, {5 + static_cast<int>(r.next() % 4), 3 + static_cast<int>(r.next() % 3)}, 2);
    auto prop = boxProperty(r, net, 0.4);
    NetVerifyOptions opt;
    opt.timeoutSec = 20;
    opt.seed = 5 + t;
    opt.attack = t % 2 == 0;  // half without attack: branch and bound must find violations
    opt.inputSplitMaxDim = 0; // ReLU splitting whatever the input
    auto mine = verifyNetwork(net, toNetworkQuery(prop), opt);
    NetVerifyOptions nopt = opt;
    nopt.naive = true;
    // Naive Z3 decides these small nets in about a second on an idle machine; the limit is far
    // above that so that a loaded machine does not turn the counts below into timeouts.
    nopt.timeoutSec = 60;
    auto naive = verifyNetwork(net, toNetworkQuery(prop), nopt);
    REQUIRE(mine);
    REQUIRE(naive);
    INFO("net " << t << " mine " << vnncompName(mine->verdict) << " (" << mine->reason << ") naive "
                << vnncompName(naive->verdict));
    if (mine->verdict == Verdict::Violated) { // checked by its replay whatever naive Z3 says
      auto cs = toCaseSpec(prop.cases.at(mine->caseIndex), prop.numOutputs);
      CHECK(replays(net, cs, mine->x));
    }
    bool decided = (mine->verdict == Verdict::Violated || mine->verdict == Verdict::Holds) &&
                   (naive->verdict == Verdict::Violated || naive->verdict == Verdict::Holds);
    if (!decided) {
      ++undecided;
      WARN("undecided: net " << t << " mine " << vnncompName(mine->verdict) << " (" << mine->reason
                             << ", " << mine->seconds << " s) naive " << vnncompName(naive->verdict)
                             << " (" << naive->seconds << " s)");
      continue;
    }
    if (mine->verdict != naive->verdict) {
      ++disagree;
      FAIL_CHECK("disagreement");
    }
    if (mine->verdict == Verdict::Violated) {
      ++sat;
    } else {
      ++unsat;
    }
  }
  CHECK(disagree == 0);
  CHECK(sat + unsat >= 14);
  CHECK(sat >= 3);
  CHECK(unsat >= 3);
}
