// Soundness tests of the network verifier on random small networks: (1) bound propagation
// contains the true values of every layer at 1000 random points of the box; (2) the full
// pipeline agrees with the naive Z3 encoding on 200 random (network, box property) pairs, in both
// input-splitting and ReLU-splitting modes, with every `sat` counterexample replayed.
#include "neural/affine_net.h"
#include "spec/vnnlib.h"
#include "verifier/bounds.h"
#include "verifier/network_verifier.h"
#include "verifier/nv_forward.h"
#include "verifier/problem.h"
#include "verifier/vnnlib_query.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace chassis;
using namespace chassis::verifier;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

double gauss(SplitMix& r) {
  double u = r.uniform() + 1e-300, v = r.uniform();
  return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
}

/// A random net with nIn inputs, one or two hidden ReLU layers totalling 3..14 neurons (small
/// enough that the naive Z3 reference answers within seconds), nOut outputs.
neural::AffineNet randomNet(SplitMix& r, int nIn, int nOut) {
  neural::AffineNet net;
  net.inputSize = nIn;
  int hidden = 1 + static_cast<int>(r.next() % 2);
  int prev = nIn;
  for (int h = 0; h < hidden; ++h) {
    int width = 3 + static_cast<int>(r.next() % (hidden == 1 ? 11 : 5)); // <= 14 ReLUs in all
    neural::AffineLayer L;
    L.W = MatrixXd(width, prev);
    L.b = VectorXd(width);
    for (int i = 0; i < width; ++i) {
      for (int j = 0; j < prev; ++j)
        L.W(i, j) = gauss(r);
      L.b[i] = 0.5 * gauss(r);
    }
    L.relu = true;
    net.layers.push_back(L);
    prev = width;
  }
  neural::AffineLayer out;
  out.W = MatrixXd(nOut, prev);
  out.b = VectorXd(nOut);
  for (int i = 0; i < nOut; ++i) {
    for (int j = 0; j < prev; ++j)
      out.W(i, j) = gauss(r);
    out.b[i] = 0.5 * gauss(r);
  }
  net.layers.push_back(out);
  return net;
}

VectorXd randomPoint(SplitMix& r, const Box& b) {
  VectorXd x(b.lo.size());
  for (Eigen::Index i = 0; i < x.size(); ++i)
    x[i] = std::clamp(b.lo[i] + r.uniform() * (b.hi[i] - b.lo[i]), b.lo[i], b.hi[i]);
  return x;
}

/// A random property: one or two cases over random boxes, each with one to three constraints
/// whose right-hand sides are drawn around the outputs seen at random points (so both verdicts
/// occur).
spec::VnnProperty randomProperty(SplitMix& r, const neural::AffineNet& net) {
  spec::VnnProperty p;
  p.numInputs = net.inputSize;
  p.numOutputs = net.outputSize();
  int nCases = 1 + static_cast<int>(r.next() % 2);
  for (int c = 0; c < nCases; ++c) {
    spec::VnnCase vc;
    for (int i = 0; i < net.inputSize; ++i) {
      double a = 2 * r.uniform() - 1, w = 0.05 + r.uniform();
      vc.lo.push_back(a);
      vc.hi.push_back(a + w);
    }
    Box b{Eigen::Map<VectorXd>(vc.lo.data(), net.inputSize),
          Eigen::Map<VectorXd>(vc.hi.data(), net.inputSize)};
    int nCons = 1 + static_cast<int>(r.next() % 3);
    for (int k = 0; k < nCons; ++k) {
      spec::OutputConstraint oc;
      oc.coef.assign(p.numOutputs, 0.0);
      for (auto& v : oc.coef)
        v = r.next() % 3 == 0 ? 0.0 : gauss(r);
      VectorXd cv = Eigen::Map<VectorXd>(oc.coef.data(), p.numOutputs);
      double lo = INFINITY, hi = -INFINITY;
      for (int s = 0; s < 30; ++s) {
        double v = cv.dot(net.forward(randomPoint(r, b)));
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      // mostly below the sampled minimum (hard unsat or subtle sat), sometimes inside
      oc.rhs = lo - (hi - lo + 0.1) * (r.uniform() * 0.6 - 0.1);
      vc.constraints.push_back(oc);
    }
    p.cases.push_back(vc);
  }
  return p;
}

} // namespace

TEST_CASE("bounds contain the network's values at 1000 random points", "[verifier][bounds]") {
  SplitMix r(12345);
  for (int t = 0; t < 30; ++t) {
    int nIn = 1 + static_cast<int>(r.next() % 3);
    auto net = randomNet(r, nIn, 1 + static_cast<int>(r.next() % 3));
    Box box;
    box.lo = VectorXd(nIn);
    box.hi = VectorXd(nIn);
    for (int i = 0; i < nIn; ++i) {
      box.lo[i] = 2 * r.uniform() - 1;
      box.hi[i] = box.lo[i] + r.uniform();
    }
    NetBounds ib = intervalBounds(net, box), sb = symbolicBounds(net, box);
    const int m = net.outputSize();
    MatrixXd C(2 * m, m);
    C << MatrixXd::Identity(m, m), -MatrixXd::Identity(m, m);
    LinearLower ll = outputLowerBound(net, box, sb, C);
    // symbolic bounds are never looser than interval bounds
    for (size_t k = 0; k < net.layers.size(); ++k) {
      CHECK((sb.lo[k].array() >= ib.lo[k].array()).all());
      CHECK((sb.hi[k].array() <= ib.hi[k].array()).all());
    }
    int violations = 0;
    for (int s = 0; s < 1000; ++s) {
      VectorXd x = randomPoint(r, box);
      VectorXd y = x;
      for (size_t k = 0; k < net.layers.size(); ++k) {
        VectorXd h = net.layers[k].W * y + net.layers[k].b;
        for (Eigen::Index j = 0; j < h.size(); ++j)
          if (h[j] < sb.lo[k][j] || h[j] > sb.hi[k][j] || h[j] < ib.lo[k][j] || h[j] > ib.hi[k][j])
            ++violations;
        y = net.layers[k].relu ? VectorXd(h.cwiseMax(0.0)) : h;
      }
      VectorXd cy = C * y;
      for (Eigen::Index i = 0; i < cy.size(); ++i) {
        if (cy[i] < ll.lower[i]) ++violations;
        // the linear bound itself holds pointwise
        if (cy[i] < ll.A.row(i).dot(x) + ll.c[i] - 1e-9) ++violations;
      }
    }
    CHECK(violations == 0);
  }
}

TEST_CASE("forward symbolic bounds and their refinement contain the network's values",
          "[verifier][bounds]") {
  SplitMix r(777);
  int checkedNets = 0, refinedTighter = 0;
  for (int t = 0; t < 40; ++t) {
    int nIn = 1 + static_cast<int>(r.next() % 5);
    auto net = randomNet(r, nIn, 1 + static_cast<int>(r.next() % 3));
    Box box;
    box.lo = VectorXd(nIn);
    box.hi = VectorXd(nIn);
    for (int i = 0; i < nIn; ++i) {
      box.lo[i] = 2 * r.uniform() - 1;
      box.hi[i] = box.lo[i] + (t % 2 ? r.uniform() : 1e-3 * r.uniform()); // wide and narrow
    }
    ForwardBounder fb(net, t % 3 == 0 ? LowerSlope::Area : LowerSlope::Parallel);
    NetBounds fw;
    fb.bound(box, fw);
    NetBounds rf = fw;
    refineBounds(net, box, rf);
    const int m = net.outputSize();
    MatrixXd C(2 * m, m);
    C << MatrixXd::Identity(m, m), -MatrixXd::Identity(m, m);
    LinearLower lf;
    fb.outputLower(box, C, lf);
    LinearLower lr = outputLowerBound(net, box, rf, C);
    bool tighter = false;
    for (size_t k = 0; k < net.layers.size(); ++k) {
      CHECK((rf.lo[k].array() >= fw.lo[k].array()).all()); // refinement only tightens
      CHECK((rf.hi[k].array() <= fw.hi[k].array()).all());
      if ((rf.hi[k] - rf.lo[k]).sum() < (fw.hi[k] - fw.lo[k]).sum()) tighter = true;
    }
    refinedTighter += tighter;
    int violations = 0, outViolations = 0, linViolations = 0;
    for (int s = 0; s < 1000; ++s) {
      VectorXd x = randomPoint(r, box);
      if (s == 0) x = box.lo;
      if (s == 1) x = box.hi;
      VectorXd y = x;
      for (size_t k = 0; k < net.layers.size(); ++k) {
        VectorXd h = net.layers[k].W * y + net.layers[k].b;
        for (Eigen::Index j = 0; j < h.size(); ++j)
          if (h[j] < rf.lo[k][j] || h[j] > rf.hi[k][j] || h[j] < fw.lo[k][j] || h[j] > fw.hi[k][j])
            ++violations;
        y = net.layers[k].relu ? VectorXd(h.cwiseMax(0.0)) : h;
      }
      VectorXd cy = C * y;
      for (Eigen::Index i = 0; i < cy.size(); ++i) {
        if (cy[i] < lf.lower[i] || cy[i] < lr.lower[i]) ++outViolations;
        if (cy[i] < lf.A.row(i).dot(x) + lf.c[i] - 1e-9) ++linViolations;
      }
    }
    CHECK(violations == 0);
    CHECK(outViolations == 0);
    CHECK(linViolations == 0);
    ++checkedNets;
  }
  CHECK(checkedNets == 40);
  CHECK(refinedTighter > 0); // the refinement does something on some nets
}

TEST_CASE("gradient smear scores only dimensions the output is nonlinear in", "[verifier]") {
  // y = relu(x0) + 2 x1 (x1 enters linearly through an always-active ReLU): over a box where
  // x0 straddles 0, only dimension 0 may score.
  neural::AffineNet net;
  net.inputSize = 2;
  neural::AffineLayer h;
  h.W = MatrixXd::Identity(2, 2);
  h.b = VectorXd::Zero(2);
  h.relu = true;
  neural::AffineLayer o;
  o.W = MatrixXd(1, 2);
  o.W << 1.0, 2.0;
  o.b = VectorXd::Zero(1);
  net.layers = {h, o};
  Box box{VectorXd(2), VectorXd(2)};
  box.lo << -1.0, 1.0;
  box.hi << 1.0, 3.0;
  ForwardBounder fb(net);
  NetBounds nb;
  fb.bound(box, nb);
  VectorXd smear = VectorXd::Zero(2);
  Eigen::RowVectorXd c(1);
  c << 1.0;
  fb.gradientSmear(box, nb, c, smear);
  CHECK(smear[0] == Approx(2.0)); // derivative in [0, 1], width 2
  CHECK(smear[1] == 0.0);
  // Forward bounds of the hidden layer are exact here (identity on a box).
  CHECK(nb.lo[0][0] <= -1.0);
  CHECK(nb.lo[0][0] > -1.0 - 1e-12);
  CHECK(nb.hi[0][1] >= 3.0);
  CHECK(nb.hi[0][1] < 3.0 + 1e-12);
}

namespace {
struct Tally {
  int sat = 0, unsat = 0, disagree = 0, undecided = 0, badReplay = 0;
};

void crossCheck(uint64_t seed, int count, int inputSplitMaxDim, Tally& t) {
  SplitMix r(seed);
  for (int i = 0; i < count; ++i) {
    int nIn = 1 + static_cast<int>(r.next() % 3);
    auto net = randomNet(r, nIn, 1 + static_cast<int>(r.next() % 3));
    auto prop = randomProperty(r, net);
    NetVerifyOptions opt;
    opt.timeoutSec = 30;
    opt.inputSplitMaxDim = inputSplitMaxDim;
    opt.seed = seed + i;
    // half the runs skip falsification so that branch and bound finds the counterexamples
    opt.attack = i % 2 == 0;
    auto mine = verifyNetwork(net, toNetworkQuery(prop), opt);
    NetVerifyOptions nopt = opt;
    nopt.naive = true;
    nopt.timeoutSec = 8; // the naive encoding can be slow: such instances count as undecided
    auto naive = verifyNetwork(net, toNetworkQuery(prop), nopt);
    REQUIRE(mine);
    REQUIRE(naive);
    INFO("instance " << i << " mine " << vnncompName(mine->verdict) << " (" << mine->reason
                     << ") naive " << vnncompName(naive->verdict) << " (" << naive->reason << ")");
    bool decided = (mine->verdict == Verdict::Violated || mine->verdict == Verdict::Holds) &&
                   (naive->verdict == Verdict::Violated || naive->verdict == Verdict::Holds);
    if (!decided) {
      ++t.undecided;
      WARN("undecided instance");
      continue;
    }
    if (mine->verdict != naive->verdict) {
      ++t.disagree;
      FAIL_CHECK("disagreement");
    }
    if (mine->verdict == Verdict::Violated) {
      ++t.sat;
      auto cs = toCaseSpec(prop.cases.at(mine->caseIndex), prop.numOutputs);
      if (!replays(net, cs, mine->x)) ++t.badReplay;
      CHECK((mine->y - net.forward(mine->x)).norm() == 0.0);
    } else {
      ++t.unsat;
    }
  }
}
} // namespace

TEST_CASE("input splitting agrees with naive Z3 on >= 200 of 215 random networks",
          "[verifier][z3]") {
  Tally t;
  crossCheck(777, 215, 12, t);
  CHECK(t.disagree == 0);
  CHECK(t.badReplay == 0);
  CHECK(t.sat + t.unsat >= 200);
  CHECK(t.sat >= 20);
  CHECK(t.unsat >= 20);
}

TEST_CASE("ReLU splitting agrees with naive Z3 on >= 50 of 60 random networks", "[verifier][z3]") {
  Tally t;
  crossCheck(4242, 60, 0, t);
  CHECK(t.disagree == 0);
  CHECK(t.badReplay == 0);
  CHECK(t.sat + t.unsat >= 50);
  CHECK(t.sat >= 5);
  CHECK(t.unsat >= 5);
}

TEST_CASE("the VNN-COMP result text", "[verifier]") {
  VerifyResult r;
  r.verdict = Verdict::Holds;
  CHECK(vnncompResult(r) == "unsat\n");
  r.verdict = Verdict::Timeout;
  CHECK(vnncompResult(r) == "timeout\n");
  r.verdict = Verdict::Violated;
  r.x = VectorXd::Constant(2, 0.5);
  r.y = VectorXd::Constant(1, -0.25);
  CHECK(vnncompResult(r) == "sat\n((X_0 0.5)\n (X_1 0.5)\n (Y_0 -0.25))\n");
}

TEST_CASE("a size mismatch is an error", "[verifier]") {
  SplitMix r(1);
  auto net = randomNet(r, 2, 2);
  spec::VnnProperty p;
  p.numInputs = 3;
  p.numOutputs = 2;
  auto res = verifyNetwork(net, toNetworkQuery(p), NetVerifyOptions{});
  REQUIRE(!res);
  CHECK(res.error().message == "the property has 3 inputs but the network has 2");
}
