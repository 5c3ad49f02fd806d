// The falsification step (verifier/attack.h) on random small ReLU networks with PLANTED
// violations: a point x* is drawn in the box, y* = net(x*), and the case's constraints
// C y <= d are drawn so that y* satisfies them with a small slack (d = C y* + slack), so the
// unsafe set is known to be non-empty. The attack must find a point of it (any point, not
// necessarily x*), and every point it returns must replay. Also: a disjunction in which only
// one case is satisfiable (the attack must name that case), an unsatisfiable property (the
// attack must never claim a point), determinism by seed, the no-constraint case, and the
// single-start `pgd`.
#include "neural/affine_net.h"
#include "spec/rng.h"
#include "verifier/attack.h"
#include "verifier/problem.h"

#include "tests/verifier/random_net_test_util.h"
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>

using namespace chassis;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

/// A random net: `in` inputs, hidden ReLU layers of `width`, `out` outputs; N(0, 1/fan_in).
neural::AffineNet randomNet(Rng& rng, int in, int hidden, int width, int out) {
  return testing::randomReluNet(rng, in, hidden, width, out, 1.0, 0.3);
}

verifier::Box randomBox(Rng& rng, int n) {
  verifier::Box b;
  b.lo.resize(n);
  b.hi.resize(n);
  for (int i = 0; i < n; ++i) {
    double c = 2 * rng.uniform() - 1, w = 0.05 + rng.uniform();
    b.lo[i] = c - w;
    b.hi[i] = c + w;
  }
  return b;
}

/// A case whose unsafe set contains x* (drawn in the box): m random constraint rows, each
/// satisfied at net(x*) with slack `slack` times the row's scale.
verifier::CaseSpec plantedCase(Rng& rng, const neural::AffineNet& net, const verifier::Box& box,
                               int m, double slack, VectorXd* xStar = nullptr) {
  const int n = net.inputSize;
  VectorXd x(n);
  for (int i = 0; i < n; ++i)
    x[i] = box.lo[i] + rng.uniform() * (box.hi[i] - box.lo[i]);
  if (xStar) *xStar = x;
  return testing::caseUnsafeAt(rng, net, box, x, m, slack);
}

/// A case no input satisfies: y_0 <= -1 and -y_0 <= -1.
verifier::CaseSpec impossibleCase(const neural::AffineNet& net, const verifier::Box& box) {
  verifier::CaseSpec cs;
  cs.box = box;
  cs.C = MatrixXd::Zero(2, net.outputSize());
  cs.C(0, 0) = 1;
  cs.C(1, 0) = -1;
  cs.d = VectorXd::Constant(2, -1.0);
  return cs;
}

auto far() {
  return std::chrono::steady_clock::now() + std::chrono::seconds(20);
}

} // namespace

TEST_CASE("attack: finds planted violations in 200 random small nets, and they replay",
          "[verifier][attack]") {
  Rng gen(2024);
  int found = 0, atPlanted = 0;
  for (int t = 0; t < 200; ++t) {
    INFO("net " << t);
    int in = 2 + t % 4, hidden = 1 + t % 3, width = 6 + t % 10, out = 2 + t % 3;
    auto net = randomNet(gen, in, hidden, width, out);
    auto box = randomBox(gen, in);
    VectorXd xStar;
    // Small slack (1e-4): the planted region is a thin neighbourhood of x*; 1..3 constraints.
    // (With 1e-6 the default budget still finds 196 of the 200.)
    auto cs = plantedCase(gen, net, box, 1 + t % 3, 1e-4, &xStar);
    REQUIRE(verifier::replays(net, cs, xStar)); // the plant itself is a violation
    Rng rng(static_cast<uint64_t>(t));
    auto r = verifier::falsifyCases(net, {cs}, verifier::AttackOptions{}, rng, far());
    if (!r) continue;
    ++found;
    CHECK(r->caseIndex == 0);
    CHECK(verifier::replays(net, cs, r->x));
    CHECK(r->evaluations > 0);
    if ((r->x - xStar).norm() < 1e-12) ++atPlanted;
  }
  CHECK(found == 200);
  CHECK(atPlanted < 200); // it finds points of the region, it was not handed x*
}

TEST_CASE("attack: a disjunction with one satisfiable case names that case", "[verifier][attack]") {
  Rng gen(7);
  for (int t = 0; t < 30; ++t) {
    INFO("net " << t);
    auto net = randomNet(gen, 3, 2, 10, 3);
    auto box1 = randomBox(gen, 3), box2 = randomBox(gen, 3);
    std::vector<verifier::CaseSpec> cases{impossibleCase(net, box1), impossibleCase(net, box2),
                                          plantedCase(gen, net, box2, 2, 1e-3),
                                          impossibleCase(net, box1)};
    Rng rng(99);
    auto r = verifier::falsifyCases(net, cases, verifier::AttackOptions{}, rng, far());
    REQUIRE(r);
    CHECK(r->caseIndex == 2);
    CHECK(verifier::replays(net, cases[2], r->x));
  }
}

TEST_CASE("attack: never returns a point when no input violates", "[verifier][attack]") {
  Rng gen(11);
  for (int t = 0; t < 20; ++t) {
    auto net = randomNet(gen, 4, 2, 8, 2);
    auto box = randomBox(gen, 4);
    std::vector<verifier::CaseSpec> cases{impossibleCase(net, box)};
    verifier::AttackOptions opt;
    opt.restarts = 64;
    Rng rng(t);
    CHECK_FALSE(verifier::falsifyCases(net, cases, opt, rng, far()));
  }
}

TEST_CASE("attack: deterministic for a seed", "[verifier][attack]") {
  Rng gen(5);
  auto net = randomNet(gen, 4, 2, 12, 3);
  auto box = randomBox(gen, 4);
  auto cs = plantedCase(gen, net, box, 3, 1e-4);
  verifier::AttackOptions opt;
  Rng a(42), b(42);
  auto ra = verifier::falsifyCases(net, {cs}, opt, a, far());
  auto rb = verifier::falsifyCases(net, {cs}, opt, b, far());
  REQUIRE(ra);
  REQUIRE(rb);
  CHECK(ra->x == rb->x);
  CHECK(ra->evaluations == rb->evaluations);
  // The SplitMix overload (the engine's current caller) gives a replaying point too.
  verifier::SplitMix sm(3);
  auto rs = verifier::falsify(net, cs, opt, sm, far());
  REQUIRE(rs);
  CHECK(verifier::replays(net, cs, *rs));
}

TEST_CASE("attack: no output constraint, bad sizes, single-start pgd", "[verifier][attack]") {
  Rng gen(9);
  auto net = randomNet(gen, 3, 1, 5, 2);
  auto box = randomBox(gen, 3);
  verifier::CaseSpec free;
  free.box = box;
  free.C.resize(0, 2);
  free.d.resize(0);
  Rng rng(1);
  auto r = verifier::falsifyCases(net, {free}, verifier::AttackOptions{}, rng, far());
  REQUIRE(r);
  CHECK(r->x.isApprox((box.lo + box.hi) / 2));
  // A case whose sizes do not match the network is skipped, not a crash.
  verifier::CaseSpec bad = free;
  bad.box.lo.resize(2);
  bad.box.hi.resize(2);
  CHECK_FALSE(verifier::falsifyCases(net, {bad}, verifier::AttackOptions{}, rng, far()));
  // pgd from the planted point's neighbourhood descends into the region.
  VectorXd xStar;
  auto cs = plantedCase(gen, net, box, 1, 1e-2, &xStar);
  auto p = verifier::pgd(net, cs, xStar, 10);
  REQUIRE(p);
  CHECK(verifier::replays(net, cs, *p));
  // An expired deadline stops the search before any work.
  auto late = verifier::falsifyCases(net, {impossibleCase(net, box)}, verifier::AttackOptions{},
                                     rng, std::chrono::steady_clock::now());
  CHECK_FALSE(late);
  // So does a stop flag already set (another thread decided the property).
  std::atomic<bool> stop{true};
  auto stopped = verifier::falsifyCases(net, {cs}, verifier::AttackOptions{}, rng, far(), &stop);
  CHECK_FALSE(stopped);
  stop = false;
  auto going = verifier::falsifyCases(net, {cs}, verifier::AttackOptions{}, rng, far(), &stop);
  CHECK(going);
}
