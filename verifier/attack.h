// Falsification: cheap searches for a counterexample inside a case's input box before any proof
// is attempted. A case is violated at x when every row of  v(x) = C net(x) - d  is <= 0, so the
// attack minimises the hinge loss
//     L(x) = sum_j max(0, v_j(x) + tau_j),   tau_j = 1e-9 (1 + |d_j|)   (a little slack),
// which is 0 exactly on (a slightly shrunk copy of) the unsafe set. Through a ReLU network the
// (sub)gradient is  dL/dx = W_1^T D_1 ... W_L^T D_L C^T h,  with D_k the 0/1 diagonal of active
// neurons and h_j = [v_j + tau_j > 0]. Two phases, both batched (a column per point, so forward
// and backward passes are matrix-matrix products over preallocated buffers, no allocation):
//   1. random sampling: the box centre and `samples` uniform points; the best (lowest L) are
//      kept as starts;
//   2. projected gradient descent: `restarts` starts (best samples first, then fresh uniform
//      points), `iterations` steps each, in batches of `batch` columns. Step: signed gradient
//      (or Adam's normalised step) times the box width times a step size decaying geometrically
//      from `stepHi` to `stepLo`; projection clamps to the box;
//   3. after each PGD batch and its sweeps (4.), in low dimension (at most `sweepMaxCoords`
//      inputs), linearised steps from the batch's `linearStarts` best PGD end points: on the linear
//      piece around x the network is y = J x + c (J from the ReLU pattern at x), so the constraints
//      x breaks or nearly meets are linear; the least-norm step making them hold with a small
//      margin (box faces it would cross become fixed coordinates), halved until the loss drops, up
//      to `linearSteps` times (single-point passes: a few starts per batch keep them a small part
//      of its cost). It reaches thin violated regions where several constraints are nearly tight at
//      once and the signed gradient of the hinge sum zig-zags (reach_prob_density robot_11: a
//      sliver 1e-4 of the box wide at a corner of three bounds, where |Y_1| and |Y_2| are at their
//      limits and Y_0 at its threshold);
//   4. after each PGD batch, coordinate sweeps from its best points (a grid along one input
//      coordinate at a time): exhaustive when the input has at most `sweepMaxCoords`
//      dimensions (ACAS Xu: 5), else only over the `sweepMaxCoords` coordinates of largest
//      |dL/dx_i| x width_i, so a batch's sweeps cost O(sweepMaxCoords), not O(inputs).
// Every point returned has passed `replays` (float64 forward pass through AffineNet::forward,
// inside the box, every constraint <= its bound), so the engine's replay accepts it too. Runs are
// deterministic for a given seed (chassis::Rng, spec/rng.h) and options: the deadline can only
// cut a run short, never change which point is returned first.
#pragma once

#include "spec/rng.h"
#include "verifier/problem.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <vector>

namespace chassis::verifier {

struct AttackOptions {
  int samples = 256;           // uniform random points per case (plus the box centre)
  int restarts = 256;          // PGD starts per case
  int iterations = 50;         // PGD steps per start
  int batch = 32;              // points moved together (columns of one matrix product)
  double stepHi = 0.02;        // first step, as a fraction of the box width
  double stepLo = 0.0002;      // last step
  double highDimStepHi = 0.25; // the first step instead when the input has more than
                               // sweepMaxCoords dimensions: there no sweep makes the long moves,
                               // and PGD must be able to cross the box (to a corner) on its own
  bool adam = false;           // Adam's step instead of the signed gradient
  int sweepStarts = 4;         // after each PGD batch, coordinate sweeps from its best points ...
  int sweeps = 2;              // ... this many passes over the coordinates,
  int sweepPoints = 32;        // ... this many points along each coordinate,
  int linearSteps = 10;        // after each PGD batch, at most this many linearised steps
                               // (0: none; only when the input has at most sweepMaxCoords
                               // dimensions) ...
  int linearStarts = 8;        // ... from each of its this many best points
  int sweepMaxCoords = 16;     // ... over at most this many coordinates per pass (those with the
                               // largest |gradient| at the start point): a full sweep costs
                               // starts x passes x inputs x points forward passes, 200,000 per PGD
  // batch at 784 inputs, and in high dimension PGD does better with them
};

/// Where a falsification run found its counterexample, and what it cost.
struct AttackResult {
  int caseIndex = -1;
  Eigen::VectorXd x;    // passed `replays` for cases[caseIndex]
  long evaluations = 0; // forward passes (one per point per step) until it was found
};

/// Attacks every case of a (disjunctive) property. Cases with the same box are attacked as one
/// disjunction: a point's loss is the smallest of their losses, and its gradient that case's.
/// Sampling on each box, then PGD rounds of `batch` starts taken in turn from each box, until a
/// point replays, the budget (samples + restarts * iterations per case) is spent, the deadline
/// passes or `*stop` becomes true (set by another thread, e.g. when branch and bound running beside
/// a long attack has decided the property).
std::optional<AttackResult> falsifyCases(const neural::AffineNet& net,
                                         const std::vector<CaseSpec>& cases,
                                         const AttackOptions& opt, Rng& rng,
                                         std::chrono::steady_clock::time_point deadline,
                                         const std::atomic<bool>* stop = nullptr);

/// One case (falsifyCases on {cs}); returns the replaying point.
std::optional<Eigen::VectorXd> falsify(const neural::AffineNet& net, const CaseSpec& cs,
                                       const AttackOptions& opt, Rng& rng,
                                       std::chrono::steady_clock::time_point deadline);

/// The same with the verifier's SplitMix (kept for callers that hold one): seeds a chassis::Rng
/// from one draw of `rng`.
std::optional<Eigen::VectorXd> falsify(const neural::AffineNet& net, const CaseSpec& cs,
                                       const AttackOptions& opt, SplitMix& rng,
                                       std::chrono::steady_clock::time_point deadline);

/// PGD from one start point, `iterations` steps (signed gradient, default step schedule);
/// returns a replaying point if it finds one.
std::optional<Eigen::VectorXd> pgd(const neural::AffineNet& net, const CaseSpec& cs,
                                   Eigen::VectorXd x, int iterations);

} // namespace chassis::verifier
