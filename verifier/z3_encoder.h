// Exact queries in Z3 (linear real arithmetic): the ONLY place in Chassis where z3::exception is
// caught. Two encodings of "some x in the case's box has C net(x) <= d":
//  - domain (leaf) queries for branch and bound: sound pre-activation bounds l <= h <= u of the
//    domain are asserted, stable ReLUs are linear (z = h or z = 0), and only unstable ones are a
//    case split z = ite(h >= 0, h, 0), strengthened by the (implied) triangle
//    z >= 0, z >= h, (u - l) z <= u (h - l);
//  - the naive baseline: every ReLU an ite, no bounds.
// Weights, biases, bounds and box are the exact rationals of their doubles, so the query is about
// real arithmetic on the network's float64 weights. A model is rounded to float64, clamped to the
// box and REPLAYED; if it fails (it sat on a constraint's boundary), the query is repeated with
// the constraints tightened by a small margin, so a reported point has slack in float64.
#pragma once

#include "verifier/problem.h"
#include "verifier/verdict.h"

#include <memory>
#include <mutex>
#include <string>

namespace chassis::verifier {

struct LeafResult {
  Verdict status = Verdict::Unknown; // Holds: no counterexample (Z3 unsat); Violated: x
  Eigen::VectorXd x;  // when Violated: a replaying counterexample
  std::string reason; // when Unknown
};

/// One Z3 context for one thread; not shareable between threads.
class Z3Encoder {
public:
  explicit Z3Encoder(const neural::AffineNet& net);
  ~Z3Encoder();
  Z3Encoder(const Z3Encoder&) = delete;
  Z3Encoder& operator=(const Z3Encoder&) = delete;

  /// The domain query; `nb` must be sound bounds for (box, splits) — splits are asserted through
  /// the bounds. `timeoutSec` <= 0 means no limit.
  LeafResult solveDomain(const CaseSpec& cs, const Box& box, const NetBounds& nb,
                         double timeoutSec);
  /// The naive query over the case's whole box.
  LeafResult solveNaive(const CaseSpec& cs, double timeoutSec);

  /// The naive query as SMT-LIB2 text (for export and debugging).
  std::string naiveSmt2(const CaseSpec& cs);

  /// Whether the float64 point `x` is a counterexample of the case in exact real arithmetic:
  /// the network and the constraints evaluated at x in exact rationals (every double is one).
  /// Violated when x is in the box and C net(x) <= d holds over the reals, Holds when it does
  /// not (a point only float64 rounding puts in the unsafe set). Exact, so never Unknown;
  /// `timeoutSec` is unused.
  LeafResult checkPoint(const CaseSpec& cs, const Eigen::VectorXd& x, double timeoutSec);

  /// Stops the running query (if any) and every later one, which then return Unknown
  /// ("canceled"). Safe to call from another thread: this is how deadlines are enforced even
  /// where Z3's own timeout is not checked.
  void interrupt();

private:
  struct Impl;
  Impl* impl(); // null once interrupted
  const neural::AffineNet& net_;
  std::mutex mu_; // guards impl_'s creation and interrupted_
  bool interrupted_ = false;
  std::unique_ptr<Impl> impl_;
};

} // namespace chassis::verifier
