// The falsification step (verifier/attack.h) in high dimension: random ReLU networks with 100
// inputs and PLANTED violations (a point x* of the box, y* = net(x*), constraints C y <= d drawn
// so that y* satisfies them with a small slack), a disjunction of 9 cases over one box of which
// only one is satisfiable (the attack must name it), and an unsatisfiable property (no point
// may be claimed). Every returned point must replay.
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

/// He-scaled weights N(0, 2/fan_in), biases N(0, 0.01).
neural::AffineNet randomNet(Rng& rng, int in, int hidden, int width, int out) {
  return testing::randomReluNet(rng, in, hidden, width, out, std::sqrt(2.0), 0.1);
}

verifier::Box ballBox(Rng& rng, int n, double eps) {
  verifier::Box b;
  b.lo.resize(n);
  b.hi.resize(n);
  for (int i = 0; i < n; ++i) {
    double c = rng.uniform();
    b.lo[i] = c - eps;
    b.hi[i] = c + eps;
  }
  return b;
}

/// A case over `box` whose unsafe set contains a point x* near a corner of the box (drawn in
/// the outer tenth of every coordinate's range, where random restarts rarely land): m random
/// rows, each satisfied at net(x*) with slack `slack` times the row's scale.
verifier::CaseSpec plantedCase(Rng& rng, const neural::AffineNet& net, const verifier::Box& box,
                               int m, double slack) {
  const int n = net.inputSize;
  VectorXd x(n);
  for (int i = 0; i < n; ++i) {
    double t = 0.9 + 0.1 * rng.uniform();
    x[i] = rng.uniform() < 0.5 ? box.lo[i] + t * (box.hi[i] - box.lo[i])
                               : box.hi[i] - t * (box.hi[i] - box.lo[i]);
  }
  return testing::caseUnsafeAt(rng, net, box, x, m, slack);
}

/// A case no input satisfies: y_0 <= c and -y_0 <= -c - 1.
verifier::CaseSpec impossibleCase(const neural::AffineNet& net, const verifier::Box& box) {
  verifier::CaseSpec cs;
  cs.box = box;
  cs.C = MatrixXd::Zero(2, net.outputSize());
  cs.C(0, 0) = 1;
  cs.C(1, 0) = -1;
  cs.d.resize(2);
  cs.d << 0.0, -1.0;
  return cs;
}

auto far() {
  return std::chrono::steady_clock::now() + std::chrono::hours(1);
}

} // namespace

TEST_CASE("attack: planted violations in 100-dimensional boxes", "[verifier][attack][highdim]") {
  Rng rng(31);
  int found = 0;
  for (int t = 0; t < 10; ++t) {
    auto net = randomNet(rng, 100, 2, 64, 5);
    auto box = ballBox(rng, 100, 0.05);
    auto cs = plantedCase(rng, net, box, 1 + t % 3, 0.002);
    INFO("net " << t);
    Rng arng(100 + t);
    verifier::AttackOptions opt; // the engine's defaults (256 restarts)
    auto r = verifier::falsifyCases(net, {cs}, opt, arng, far());
    if (r) {
      ++found;
      CHECK(r->caseIndex == 0);
      CHECK(verifier::replays(net, cs, r->x));
    }
  }
  CHECK(found >= 9);
}

TEST_CASE("attack: a 9-case disjunction over a 100-dimensional box names its satisfiable case",
          "[verifier][attack][highdim]") {
  Rng rng(47);
  for (int t = 0; t < 4; ++t) {
    auto net = randomNet(rng, 100, 2, 64, 10);
    auto box = ballBox(rng, 100, 0.05);
    std::vector<verifier::CaseSpec> cases;
    const int planted = 2 * t + 1;
    for (int k = 0; k < 9; ++k)
      cases.push_back(k == planted ? plantedCase(rng, net, box, 2, 0.002)
                                   : impossibleCase(net, box));
    Rng arng(7 + t);
    auto r = verifier::falsifyCases(net, cases, verifier::AttackOptions{}, arng, far());
    REQUIRE(r);
    CHECK(r->caseIndex == planted);
    CHECK(verifier::replays(net, cases.at(planted), r->x));
  }
}

TEST_CASE("attack: an unsatisfiable 100-dimensional property is never claimed",
          "[verifier][attack][highdim]") {
  Rng rng(5);
  auto net = randomNet(rng, 100, 2, 64, 3);
  auto box = ballBox(rng, 100, 0.1);
  verifier::AttackOptions opt;
  opt.restarts = 64;
  Rng arng(3);
  CHECK_FALSE(verifier::falsifyCases(net, {impossibleCase(net, box), impossibleCase(net, box)}, opt,
                                     arng, far()));
}
