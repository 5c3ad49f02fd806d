// Reverse-mode automatic differentiation of a model's log joint density over the IR, for HMC and
// NUTS (symbolic/infer_nuts.h).
//
// The function differentiated. For a model f with bound inputs, the "position" u in R^d holds its
// continuous random choices in execution order, each mapped to an unconstrained real by the
// transform of its support (symbolic/transforms.h). The target is
//
//   L(u) = sum_choices [ log p_D(c(u_k) | params) + log |c'(u_k)| ]    (prior + Jacobian)
//        + sum_observes log p_D(x | params) + sum_factors w           (likelihood + factors)
//
// and -inf when a condition fails. Every choice must be continuous: a discrete choice is refused
// ("NUTS needs every random choice continuous; 'z' is Bernoulli: use --method mh").
//
// Method: a tape with guards. The first evaluation walks the IR on the interpreter's own
// traversal (symbolic/evaluator.h, in a domain whose reals carry tape slots; statements in order,
// loops run, calls inlined with their address prefixes, arrays element by element)
// and records each real operation that depends on u as a node (operation, operand slots, output
// slot) in a flat array; values that do not depend on u (data, constants, loop indices) are
// folded while recording. Every discrete decision taken on a u-dependent value (a comparison
// feeding an `if`, a `select`, `&&`, a condition or an assert; an argmax; a call's input range
// check) is recorded as a guard node holding the outcome seen. Later evaluations do not walk the
// IR: a forward sweep recomputes every node's value and its local partial derivatives in place,
// and a reverse sweep accumulates adjoints, adj[arg] += adj[out] * d out / d arg. If a guard's
// outcome differs, control flow has changed and the tape is recorded afresh at that point (the
// set of choices must stay the same: a model whose choices appear or vanish with their values is
// refused as trans-dimensional). The sweeps use only the tape's preallocated arrays: after the
// first recording, an evaluation allocates nothing.
//
// Fused log densities. After each recording, the log-density nodes whose values go only into the
// target (the terms of observes and draws) are grouped by distribution, and each group becomes
// ONE node whose forward sweep sums the elements' log densities and writes their partials in one
// loop, and whose reverse step accumulates the adjoints in one loop: a vectorised
// `observe(Normal(mu, sigma), ys)` or `x ~ Normal(0, 1)` over an array is one node, whatever
// its length. Two patterns are folded further: a Normal whose means are linear, with constant
// coefficients, in at most 8 common slots (a regression's beta[0] + beta[1] * x[k]: the nodes
// that computed the means are dropped, and a shared sigma and data values get one partial each),
// and a Bernoulli of sigmoid(linear) (logistic regression). Fused and per-element tapes agree
// within rounding (the order of summation changes; tests/symbolic/fused_log_density_test.cpp).
// Why in the tape and not as an IR node for vectorised statements: the IR keeps its per-element
// loops (spec/lower.cpp), so the interpreter, the Z3 encoder, the discrete model and codegen are
// unchanged; the tape sees the same pattern whether the loop was written by hand or lowered from
// a vectorised statement, and also through function calls; the price is a pass over the tape at
// each recording (once per run unless control flow changes). A dropped mean node (an affine
// combination) can no longer reject a point by overflowing; the fused node rejects a non-finite
// mean instead.
//
// Points outside the model's domain (a log of a non-positive number, an invalid distribution
// parameter, a non-finite value or gradient, a failed condition, zero density) give L = -inf: the
// sampler rejects them, as Stan does. Errors that are the model's fault whatever u is (an assert
// that fails, an index out of range, a discrete choice, an input outside a callee's range) are
// Errors located at the statement.
//
// Derivatives of the log densities w.r.t. value and parameters are written here
// (logDensityGradient); the value itself is symbolic::logDensity's, so the two back ends agree.
#pragma once

#include "spec/error.h"
#include "spec/ir.h"
#include "spec/rng.h"
#include "symbolic/interp.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace chassis::symbolic {

/// The digamma function psi(x) = d/dx log Gamma(x), x > 0 (recurrence to x >= 10, then the
/// asymptotic series).
double digamma(double x);

/// log p_k(x | params) (as symbolic::logDensity) and its partial derivatives: dx (0 for discrete
/// kinds) and dparams[i] = d/d params[i] (dparams has params.size() entries; integer parameters
/// get 0). Outside the support the value is -inf and the derivatives 0.
double logDensityGradient(DistKind k, std::span<const double> params, double x, double& dx,
                          std::span<double> dparams);

/// The kinds of tape node a compiler of the tape knows (codegen/tape_compiler.h), one per node
/// operation of ad.cpp's forward sweep; Other: a node of any other kind (a compiler falls back to
/// the tape's own sweeps).
enum class TapeNodeKind : uint8_t {
  Add, Sub, Mul, Div, Neg, Exp, Log, Sqrt, Sigmoid, Tanh, Abs, Relu, Min, Max,
  Sum,         // n operands
  Dot,         // 2m operands: a_0..a_{m-1}, b_0..b_{m-1}
  LogitJac,    // log sigmoid(u) + log(1 - sigmoid(u))
  LogDensity,  // aux = DistKind; operands x, params...
  GuardCmp,    // aux = BinOp; values[out] holds the outcome recorded (0/1)
  GuardArgmax, // values[out] holds the index recorded
  // The fused nodes (above; forward and reverse as ad.cpp's, whose layout this mirrors):
  LogDensitySum,          // aux = DistKind; per element (x, params...): sum of log densities
  NormalLinearSum,        // aux = m | kTapeSharedSigma? | kTapeDataX?; the m bases b_j, then
                          // sigma when shared, then per element x (, sigma), c_0, c_1..c_m
  BernoulliLogitLinearSum, // aux = m; the m bases, then per element (x, c_0, c_1..c_m)
  Other
};
/// NormalLinearSum's aux: the base count (mask), every element has the same sigma, every x is
/// data.
constexpr uint8_t kTapeBaseMask = 0x3f, kTapeSharedSigma = 0x40, kTapeDataX = 0x80;

struct TapeNodeView {
  TapeNodeKind kind;
  uint8_t aux;
  uint32_t out, arg, n; // output slot; operand slots args[arg .. arg + n)
};

/// A read-only copy of the recorded tape: its nodes in order over value slots. A slot is a
/// coordinate of the position (positionSlots), a node's output, or a constant (its value in
/// `values`: data and numbers folded while recording). `recorded` is false while no complete
/// tape is recorded (after a rejected re-recording).
struct TapeView {
  bool recorded = false;
  std::vector<TapeNodeView> nodes;
  std::vector<uint32_t> args;
  std::vector<double> values;
  std::vector<uint32_t> positionSlots;
  uint32_t target = 0; // the slot of L(u)
};

/// The log joint density of one model with bound inputs, as a function of the unconstrained
/// position, with its gradient. One object per thread (it owns its tape).
class LogDensityTape {
public:
  /// `fuse` (the default) replaces, after each recording, the per-element log-density nodes of
  /// one distribution by one fused node (see above); false keeps one node per element (the
  /// differential tests compare the two).
  LogDensityTape(const ir::Function& f, std::vector<Value> inputs, bool fuse = true);
  ~LogDensityTape();
  LogDensityTape(LogDensityTape&&) noexcept;
  LogDensityTape& operator=(LogDensityTape&&) noexcept;

  /// Draws an initial position with every coordinate uniform in (-radius, radius) (Stan's
  /// default) and records the tape there; retries up to `attempts` times while the density is
  /// -inf or its gradient not finite. Errors: the model's own errors (see above), or no finite
  /// starting point found.
  Expected<std::vector<double>> initialize(Rng& rng, double radius = 2.0, int attempts = 100);

  /// L(u) and its gradient (grad.size() == dimension()); -inf (gradient unspecified) outside
  /// the domain. Requires a successful initialize().
  Expected<double> logDensity(std::span<const double> u, std::span<double> grad);
  /// L(u) only (a forward sweep).
  Expected<double> logDensity(std::span<const double> u);

  size_t dimension() const;
  /// The continuous choices, in position order (addresses as in traces).
  const std::vector<std::string>& addresses() const;
  const std::vector<DistKind>& distributions() const;
  /// Output scalars of the function, named "y" or "y[k]" (flattened row-major).
  const std::vector<std::string>& outputNames() const;
  /// After an evaluation with a finite result: the constrained value of each choice, and each
  /// output scalar (bools 0/1, enums their index), at that position.
  void readChoices(std::span<double> out) const;
  void readOutputs(std::span<double> out) const;

  /// How often the tape was recorded (1 unless control flow changed), and its node count.
  size_t recordings() const;
  size_t tapeSize() const;
  /// The recorded tape, for compilers of it (codegen/tape_compiler.h).
  TapeView view() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace chassis::symbolic
