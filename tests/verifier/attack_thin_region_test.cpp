// The falsification step (verifier/attack.h) on a violated set that is a thin sliver at a corner
// of the input box, the shape of reach_prob_density's robot_11: random 5-input ReLU networks
// (5 -> 64 -> 64 -> 3) and a PLANTED point x* on three faces of the box (x_0 = hi, x_1 = lo,
// x_3 = hi), with the unsafe set  |y_1 - y_1*| <= r, |y_2 - y_2*| <= r, y_0 >= y_0* - r  for r
// 1e-6 of the outputs' spread over the box, so two output bands must be met at once and random
// points or the signed gradient rarely land in it. The attack must find a replaying point in
// every instance with its default budget (without its linearised steps it finds 4 of the 6).
#include "neural/affine_net.h"
#include "spec/rng.h"
#include "verifier/attack.h"
#include "verifier/problem.h"

#include "tests/verifier/random_net_test_util.h"
#include <catch2/catch.hpp>

#include <chrono>

using namespace chassis;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

/// The case, and x* in `planted`.
verifier::CaseSpec thinCornerCase(Rng& rng, const neural::AffineNet& net, verifier::Box box,
                                  VectorXd& planted) {
  const int n = net.inputSize;
  VectorXd& x = planted;
  x.resize(n);
  for (int i = 0; i < n; ++i)
    x[i] = box.lo[i] + (0.2 + 0.6 * rng.uniform()) * (box.hi[i] - box.lo[i]);
  x[0] = box.hi[0];
  x[1] = box.lo[1];
  x[3] = box.hi[3];
  const VectorXd y = net.forward(x);
  // The outputs' spread over the box, from a few samples: the band width's scale.
  VectorXd lo = y, hi = y;
  for (int s = 0; s < 64; ++s) {
    VectorXd p(n);
    for (int i = 0; i < n; ++i)
      p[i] = box.lo[i] + rng.uniform() * (box.hi[i] - box.lo[i]);
    const VectorXd q = net.forward(p);
    lo = lo.cwiseMin(q);
    hi = hi.cwiseMax(q);
  }
  const VectorXd r = 1e-6 * (hi - lo).cwiseMax(1e-6);
  verifier::CaseSpec cs;
  cs.box = std::move(box);
  cs.C = MatrixXd::Zero(5, 3);
  cs.d.resize(5);
  cs.C(0, 1) = 1; // y_1 <= y_1* + r
  cs.d[0] = y[1] + r[1];
  cs.C(1, 1) = -1; // y_1 >= y_1* - r
  cs.d[1] = -y[1] + r[1];
  cs.C(2, 2) = 1;
  cs.d[2] = y[2] + r[2];
  cs.C(3, 2) = -1;
  cs.d[3] = -y[2] + r[2];
  cs.C(4, 0) = -1; // y_0 >= y_0* - r
  cs.d[4] = -y[0] + r[0];
  return cs;
}

} // namespace

TEST_CASE("attack: planted thin violated slivers at a corner of a 5-input box",
          "[verifier][attack][thin]") {
  Rng rng(20221);
  int withoutLinearised = 0;
  for (int t = 0; t < 6; ++t) {
    CAPTURE(t);
    const neural::AffineNet net = testing::randomReluNet(rng, 5, 2, 64, 3, std::sqrt(2.0), 0.1);
    verifier::Box box;
    box.lo.resize(5);
    box.hi.resize(5);
    for (int i = 0; i < 5; ++i) {
      box.lo[i] = rng.normal();
      box.hi[i] = box.lo[i] + 0.5 + 2.0 * rng.uniform();
    }
    VectorXd planted;
    const verifier::CaseSpec cs = thinCornerCase(rng, net, box, planted);
    REQUIRE(verifier::replays(net, cs, planted)); // the case is satisfiable
    const auto far = std::chrono::steady_clock::now() + std::chrono::hours(1);
    verifier::AttackOptions opt;
    Rng arng(7 + t);
    auto r = verifier::falsifyCases(net, {cs}, opt, arng, far);
    REQUIRE(r);
    CHECK(r->caseIndex == 0);
    CHECK(verifier::replays(net, cs, r->x));
    // The same search without the linearised steps, for the record (not asserted: PGD and the
    // sweeps may find some of them).
    opt.linearSteps = 0;
    Rng brng(7 + t);
    if (verifier::falsifyCases(net, {cs}, opt, brng, far)) ++withoutLinearised;
  }
  WARN("without the linearised steps the attack found " << withoutLinearised << " of 6");
}
