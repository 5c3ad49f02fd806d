// Cancellation inside one bound computation (verifier/cancellation.h): without an open scope the
// bound functions run as before; inside a scope whose deadline has passed, or whose stop flag is
// set, symbolic bounds, the output bound and alpha-CROWN throw Cancelled instead of finishing;
// once the flag is clear they give the same bounds as without a scope. The per-neuron tightening
// runs in blocks of neurons; on a layer wider than a block the bounds still contain every
// sampled pre-activation.
#include "verifier/alpha_crown.h"
#include "verifier/bounds.h"
#include "verifier/cancellation.h"
#include "verifier/problem.h"

#include "random_net_test_util.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>

using namespace chassis;
using namespace chassis::verifier;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

Box unitBox(int n, double r) {
  Box b;
  b.lo = VectorXd::Constant(n, -r);
  b.hi = VectorXd::Constant(n, r);
  return b;
}

} // namespace

TEST_CASE("bound computations stop inside a cancelled scope and only there", "[cancellation]") {
  Rng rng(7);
  neural::AffineNet net = testing::randomReluNet(rng, 20, 3, 120, 4, 1.4, 0.1);
  Box box = unitBox(20, 1.0);
  MatrixXd C = MatrixXd::Identity(4, 4);
  NetBounds reference = symbolicBounds(net, box);
  REQUIRE(reference.unstable(net) > 0);
  LinearLower refOut = outputLowerBound(net, box, reference, C);

  using Clock = CancelScope::Clock;
  SECTION("a passed deadline") {
    CancelScope scope(Clock::now() - std::chrono::seconds(1), nullptr);
    CHECK_THROWS_AS(symbolicBounds(net, box), Cancelled);
    CHECK_THROWS_AS(outputLowerBound(net, box, reference, C), Cancelled);
    AlphaCrownOptions ao;
    CHECK_THROWS_AS(alphaCrownBound(net, box, reference, C, ao), Cancelled);
  }
  SECTION("a stop flag, then the same bounds once it is clear") {
    std::atomic<bool> stop{true};
    CancelScope scope(Clock::now() + std::chrono::hours(1), &stop);
    CHECK_THROWS_AS(symbolicBounds(net, box), Cancelled);
    stop = false;
    NetBounds again = symbolicBounds(net, box);
    for (size_t k = 0; k < reference.lo.size(); ++k) {
      CHECK(again.lo[k] == reference.lo[k]);
      CHECK(again.hi[k] == reference.hi[k]);
    }
    LinearLower out = outputLowerBound(net, box, again, C);
    CHECK(out.lower == refOut.lower);
  }
  SECTION("the scope is per thread and nests") {
    std::atomic<bool> stop{true};
    {
      CancelScope outer(Clock::now() + std::chrono::hours(1), nullptr);
      {
        CancelScope inner(Clock::now() + std::chrono::hours(1), &stop);
        CHECK_THROWS_AS(pollCancellation(), Cancelled);
      }
      CHECK_NOTHROW(pollCancellation()); // the outer scope is in force again
    }
    CHECK(CancelScope::current() == nullptr);
    CHECK_NOTHROW(symbolicBounds(net, box));
  }
}

TEST_CASE("tightening in blocks of neurons keeps every sampled pre-activation inside its bounds",
          "[cancellation]") {
  Rng rng(11);
  // 300 units per layer: several blocks of the tightening per layer.
  neural::AffineNet net = testing::randomReluNet(rng, 30, 2, 300, 3, 1.3, 0.2);
  Box box = unitBox(30, 0.5);
  NetBounds nb = symbolicBounds(net, box);
  int unstableWide = 0;
  for (Eigen::Index j = 0; j < nb.lo[1].size(); ++j)
    if (nb.lo[1][j] < 0 && nb.hi[1][j] > 0) ++unstableWide;
  REQUIRE(unstableWide > 64);
  SplitMix sm(3);
  long outside = 0;
  for (int s = 0; s < 300; ++s) {
    VectorXd x(30);
    for (int i = 0; i < 30; ++i)
      x[i] = box.lo[i] + (box.hi[i] - box.lo[i]) * sm.uniform();
    std::vector<VectorXd> pre = testing::preActivations(net, x);
    for (size_t k = 0; k < pre.size(); ++k)
      for (Eigen::Index j = 0; j < pre[k].size(); ++j)
        if (!(pre[k][j] >= nb.lo[k][j] && pre[k][j] <= nb.hi[k][j])) ++outside;
  }
  CHECK(outside == 0);
}
