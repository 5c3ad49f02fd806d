// Soundness of the forward symbolic bounds of a child box given its parent's bounds as a prior
// (ForwardBounder::bound's `prior`, the input-splitting search's inheritance): on random ReLU
// networks and random child boxes of a random parent box, every pre-activation and every output
// row's linear lower bound holds at 1000 points of the child box (its corners among them), and
// the bounds lie within the prior's.
#include "random_net_test_util.h"

#include "verifier/bounds.h"
#include "verifier/nv_forward.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace chassis;
using namespace chassis::verifier;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

/// A random sub-box of `parent`: each side cut at a uniform point, sometimes to a thin slab.
Box randomChild(Rng& rng, const Box& parent) {
  Box c = parent;
  for (Eigen::Index i = 0; i < parent.lo.size(); ++i) {
    const double w = parent.hi[i] - parent.lo[i];
    double a = parent.lo[i] + w * rng.uniform(), b = parent.lo[i] + w * rng.uniform();
    if (a > b) std::swap(a, b);
    if (rng.uniform() < 0.5) { // a half, as the search splits
      const double mid = parent.lo[i] + 0.5 * w;
      a = rng.uniform() < 0.5 ? parent.lo[i] : mid;
      b = a == parent.lo[i] ? mid : parent.hi[i];
    }
    c.lo[i] = a;
    c.hi[i] = b;
  }
  return c;
}

VectorXd pointOf(Rng& rng, const Box& box, int s) {
  VectorXd x(box.lo.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    if (s < 2) x[i] = s == 0 ? box.lo[i] : box.hi[i]; // two opposite corners
    else x[i] = box.lo[i] + (box.hi[i] - box.lo[i]) * rng.uniform();
  }
  return x;
}

} // namespace

TEST_CASE("forward bounds with the parent's bounds as prior contain the network's values",
          "[verifier][bounds]") {
  Rng rng(4242);
  int tighterSomewhere = 0, nets = 0;
  for (int t = 0; t < 60; ++t) {
    const int nIn = 1 + t % 5, hidden = 1 + t % 4, out = 1 + t % 3;
    auto net = testing::randomReluNet(rng, nIn, hidden, 6 + t % 11, out, 1.5, 0.3);
    const Box parent = testing::randomBox(rng, nIn, t % 2 ? 1.0 : 0.05);
    ForwardBounder fb(net, t % 3 == 0 ? LowerSlope::Area : LowerSlope::Parallel);
    NetBounds prior;
    fb.bound(parent, prior);
    refineBounds(net, parent, prior); // as the search does before splitting
    for (int c = 0; c < 4; ++c) {
      const Box child = randomChild(rng, parent);
      NetBounds plain, inherited;
      fb.bound(child, plain);
      fb.bound(child, inherited, &prior);
      const int m = net.outputSize();
      MatrixXd C(2 * m, m);
      C << MatrixXd::Identity(m, m), -MatrixXd::Identity(m, m);
      LinearLower lo; // the output functions of the last bound() call: with the prior
      fb.outputLower(child, C, lo);
      bool tighter = false;
      for (size_t k = 0; k < net.layers.size(); ++k) {
        CHECK((inherited.lo[k].array() >= prior.lo[k].array()).all());
        CHECK((inherited.hi[k].array() <= prior.hi[k].array()).all());
        if ((inherited.hi[k] - inherited.lo[k]).sum() < (plain.hi[k] - plain.lo[k]).sum() - 1e-12)
          tighter = true;
      }
      tighterSomewhere += tighter;
      int preViolations = 0, outViolations = 0;
      for (int s = 0; s < 1000; ++s) {
        const VectorXd x = pointOf(rng, child, s);
        const auto pre = testing::preActivations(net, x);
        for (size_t k = 0; k < pre.size(); ++k)
          for (Eigen::Index j = 0; j < pre[k].size(); ++j)
            if (pre[k][j] < inherited.lo[k][j] || pre[k][j] > inherited.hi[k][j]) ++preViolations;
        const VectorXd cy = C * net.forward(x);
        for (Eigen::Index i = 0; i < cy.size(); ++i)
          if (cy[i] < lo.lower[i] || cy[i] < lo.A.row(i).dot(x) + lo.c[i] - 1e-9) ++outViolations;
      }
      CHECK(preViolations == 0);
      CHECK(outViolations == 0);
    }
    ++nets;
  }
  CHECK(nets == 60);
  CHECK(tighterSomewhere > 0); // the prior tightens some child's bounds
}

TEST_CASE("a prior of another shape is ignored", "[verifier][bounds]") {
  Rng rng(99);
  auto net = testing::randomReluNet(rng, 3, 2, 8, 2, 1.5, 0.3);
  const Box box = testing::randomBox(rng, 3, 0.5);
  ForwardBounder fb(net);
  NetBounds plain, withOther;
  fb.bound(box, plain);
  NetBounds other; // one layer only: not this network's bounds
  other.lo.push_back(VectorXd::Zero(8));
  other.hi.push_back(VectorXd::Zero(8));
  fb.bound(box, withOther, &other);
  for (size_t k = 0; k < net.layers.size(); ++k) {
    CHECK(withOther.lo[k] == plain.lo[k]);
    CHECK(withOther.hi[k] == plain.hi[k]);
  }
}
