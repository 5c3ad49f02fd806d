// Formal faithfulness of a circuit C to its network N, proved by the network verifier
// (network_verifier.h) over an input box instead of measured on a dataset.
//
// Maximum deviation. For two networks A, B with the same input and output sizes,
//     dev(A, B; box) = max_{x in box} || A(x) - B(x) ||_inf.
// differenceNetwork(A, B) is one AffineNet computing A(x) - B(x): the two nets side by side
// (first layers read the shared input, hidden layers block diagonal, last layer [W_A, -W_B]).
// Nets are first put in a normal form in which every layer but the last has a ReLU: a hidden
// layer without ReLU computing v becomes [relu(v); relu(-v)] (the next layer reads
// [W, -W]), a ReLU on the output layer gets an identity linear layer after it. A shallower net
// is padded before its output layer with identity ReLU layers, exact because they carry
// non-negative (post-ReLU) values; a net with no hidden layer first has its output v turned
// into the pair [relu(v); relu(-v)] read back by [I, -I]. All of this is exact in real
// arithmetic except the output bias b_A - b_B, whose float64 rounding error e (computed exactly
// by TwoSum) is added to every certified bound.
//
// certifyMaxDeviation brackets dev: `worst` is the largest deviation observed at a concrete
// point (float64 forward passes of A and B: a lower bound), `certified` is a proved upper bound:
// first from symbolic bounds (bounds.h) on the rows [I; -I] of the difference network, then
// tightened by bisection on delta, each step one verifyNetwork query of the property
// "exists x in box, i: diff_i(x) >= delta or diff_i(x) <= -delta" (2m cases): unsat proves
// dev < delta + |e|, sat gives a replayed point (a new `worst`); a timeout or unknown is
// followed by one easier query (delta halfway to the proved bound) with the rest of the budget,
// a second one ends the search. The first `worst` comes from 2048 uniform samples and signed
// gradient ascent of +-diff_i (at most a fifth of the budget). Before any bound or query the
// network is simplified by mergeIdenticalNeurons (exact), so the parts a circuit shares with
// its network cancel instead of being over-approximated twice. Queries use input splitting up
// to 24 inputs (see queryOptions in the .cpp: these composite nets defeat ReLU splitting).
//
// Decision agreement. With DecisionRule::Argmax the decision is the index of the largest output,
// ties to the lowest index (Eigen's maxCoeff, numpy's argmax); with DecisionRule::Sign (one
// output) it is y > 0. verifyDecisionAgreement asks whether d(A(x)) != d(B(x)) for some x in the
// box. Exact ties: a strict inequality cannot be posed to the verifier (VNN-LIB has only <=),
// so each strict comparison of a decision is posed with the margin eps = decisionMargin:
// Argmax, case (j, k), j != k: A_j - A_i >= eps (i < j), A_j - A_i >= 0 (i > j), and the same
// for B deciding k, plus the implied row (A_j - B_j) - (A_k - B_k) >= eps (read from a third
// output block A - B, which cancels to exactly zero where A and B share their computation);
// Sign: A >= eps and B <= 0, or B >= eps and A <= 0. So
//   Sat   - x is a genuine disagreement: A and B evaluated at the float64 point x in exact
//           rational arithmetic decide differently (ties broken to the lowest index; a point
//           where only float64 rounding makes them differ is Unknown, with that reason; one where
//           float64 rounds them to the same decision is Sat with a floating-point note);
//   Unsat - the decisions are equal at every x of the box, except possibly where one of the
//           networks decides by a margin below eps (within eps of its decision boundary), e.g.
//           exactly on a tie, where identical networks trivially agree anyway.
// With decisionMargin = 0 the encoding is the closed over-approximation (ties count against).
//
// The leak. S marks the circuit's units in each hidden layer of N. The patched run
// N_patch(x; S <- x') is N on x in which every unit of S takes the value it has in N on x'.
// If the circuit hypothesis holds, N_patch(x; S <- x') = C(x') whatever x is; the leak is
//     leak = max_{x, x' in box} || N_patch(x; S <- x') - C(x') ||_inf,
// what flows into the output through the units outside the circuit. leakNetwork builds one
// AffineNet on [x; x'] with three streams (A = N on x', P = the patched run whose unit i of
// hidden layer k reads A_{k-1} if in S and P_{k-1} otherwise, C on x'), output P_out - C_out;
// certifyMaxLeak and verifyLeakDecision run the machinery above on box x box.
//
// Bad input (mismatched sizes, S of the wrong shape, an empty or inverted box, Sign with more
// than one output) throws std::invalid_argument with a message saying what is wrong.
#pragma once

#include "neural/affine_net.h"
#include "neural/circuit.h"
#include "verifier/bounds.h"
#include "verifier/network_verifier.h"

#include <Eigen/Dense>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace chassis::verifier {

struct FaithOptions {
  double timeoutSec = 60;
  int threads = 2;
  uint64_t seed = 1;
  double relTol = 0.05; // stop bisection when (upper - lower) <= relTol * upper (+1e-9)
  int maxQueries = 16;
  double decisionMargin = 1e-9; // eps of the strict comparisons of decisions (see above)
};

/// max over x in box of ||A(x) - B(x)||_inf, bracketed.
struct DeviationBound {
  double certified = std::numeric_limits<double>::infinity(); // PROVED: |A - B| <= certified
  double worst = 0;       // largest deviation found at a concrete point (float64 replay) ...
  Eigen::VectorXd worstX; // ... at this point (empty if no point was evaluated)
  int queries = 0;        // verifyNetwork calls
  double seconds = 0;
  std::string note; // how it stopped, e.g. "timeout at delta=..."
};

/// The network computing A(x) - B(x) (see the header comment). Throws on mismatched sizes.
neural::AffineNet differenceNetwork(const neural::AffineNet& A, const neural::AffineNet& B);

/// The network computing [A(x); B(x)] (outputs concatenated), built like differenceNetwork.
neural::AffineNet productNetwork(const neural::AffineNet& A, const neural::AffineNet& B);

/// The same function with fewer neurons, exactly (in real arithmetic on the float64 weights):
/// hidden neurons with identical incoming rows and biases are merged (their outgoing columns
/// summed, only where that sum is exact in float64), then neurons nothing reads and ReLU
/// neurons that are constantly zero (zero row, bias <= 0) are dropped.
neural::AffineNet mergeIdenticalNeurons(const neural::AffineNet& net);

DeviationBound certifyMaxDeviation(const neural::AffineNet& A, const neural::AffineNet& B,
                                   const Box& box, const FaithOptions& opt);

enum class DecisionRule { Argmax, Sign }; // Sign: single output, decision = (y > 0)

struct AgreementResult {
  Verdict verdict = Verdict::Unknown; // Unsat: same decision everywhere (proved, see above);
  Eigen::VectorXd x, yA, yB;          // Sat: a point where decisions differ (replays)
  double seconds = 0;
  std::string reason;
};

AgreementResult verifyDecisionAgreement(const neural::AffineNet& A, const neural::AffineNet& B,
                                        const Box& box, DecisionRule rule, const FaithOptions& opt);

/// On input [x; x'] (size 2n): N_patch(x; S <- x') - C(x'). S[k][i]: unit i of hidden layer k
/// of N (S has one entry per hidden layer, each of that layer's width).
neural::AffineNet leakNetwork(const neural::AffineNet& N, const std::vector<std::vector<bool>>& S,
                              const neural::AffineNet& C);

/// N_patch(x; S <- x') for every row pair: X and Xpatch are samples x n, the result samples x m.
Eigen::MatrixXd patchedForward(const neural::AffineNet& N, const std::vector<std::vector<bool>>& S,
                               const Eigen::MatrixXd& X, const Eigen::MatrixXd& Xpatch);

/// The leak bracketed over box x box; worstX is [x; x'].
DeviationBound certifyMaxLeak(const neural::AffineNet& N, const std::vector<std::vector<bool>>& S,
                              const neural::AffineNet& C, const Box& box, const FaithOptions& opt);

/// Is the decision of N_patch(x; S <- x') that of C(x') for all x, x' in the box? When Sat,
/// x holds [x; x'], yA = N_patch(x; S <- x'), yB = C(x').
AgreementResult verifyLeakDecision(const neural::AffineNet& N,
                                   const std::vector<std::vector<bool>>& S,
                                   const neural::AffineNet& C, const Box& box, DecisionRule rule,
                                   const FaithOptions& opt);

/// Resample ablation as plain networks on a pair of inputs [x; x'] (size 2n), so that the
/// deviation and decision analyses above take a resample circuit over box x box:
/// resampleCircuitNetwork is the circuit on x in which every cut edge carries its source unit's
/// value in N on x' (neural/circuit.h's Resample ablation: equal to circuitForward(N, c, ., x,
/// x')); it runs N on x' beside the circuit. onFirstHalf is N on [x; x'], ignoring x'.
/// Throws std::invalid_argument when c does not fit N.
neural::AffineNet resampleCircuitNetwork(const neural::AffineNet& N, const neural::Circuit& c);
neural::AffineNet onFirstHalf(const neural::AffineNet& N);
/// box x box: the box of a pair [x; x'].
Box pairBox(const Box& box);

} // namespace chassis::verifier
