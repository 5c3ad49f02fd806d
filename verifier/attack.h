// Falsification: cheap searches for a counterexample inside a case's input box before any
// proof is attempted. Random sampling, then projected gradient descent (PGD) on the violation
// max_j (C y - d)_j, whose (sub)gradient through a ReLU network is the product of the layer
// weights masked by the active neurons. Any point returned has passed `replays`.
#pragma once

#include "verifier/problem.h"

#include <chrono>
#include <optional>

namespace chassis::verifier {

struct AttackOptions {
  int samples = 200;    // uniform random points (plus the box centre and corners of one sweep)
  int restarts = 8;     // PGD starts
  int iterations = 60;  // PGD steps per start
};

std::optional<Eigen::VectorXd> falsify(const neural::AffineNet& net, const CaseSpec& cs,
                                       const AttackOptions& opt, SplitMix& rng,
                                       std::chrono::steady_clock::time_point deadline);

/// PGD from one start point, `iterations` steps; returns a replaying point if it finds one.
std::optional<Eigen::VectorXd> pgd(const neural::AffineNet& net, const CaseSpec& cs,
                                   Eigen::VectorXd x, int iterations);

} // namespace chassis::verifier
