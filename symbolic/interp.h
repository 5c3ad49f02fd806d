// The reference interpreter of the core IR: runs an ir::Function on concrete inputs in float64,
// with the semantics stated at the top of spec/ir.h. Random choices are drawn with chassis::Rng
// and symbolic::sample, or replayed from given values; each is scored with symbolic::logDensity
// and recorded in a Trace with its address. Distribution parameters are validated first
// (symbolic::validateParams): an invalid parameter is an Error at the statement's location, never
// a NaN. Every run-time failure (assert, invalid parameter, division by zero, index out of range,
// log/sqrt outside the domain, a non-finite result, an input outside its declared range at a
// call, a call of a network that is not loaded) is an Error with the failing statement's
// SourceLoc. The interpreter is also what counterexamples are replayed through, so it is the
// float64 ground truth the other back ends are compared against.
#pragma once

#include "spec/error.h"
#include "spec/ir.h"
#include "spec/rng.h"
#include "symbolic/trace.h"

#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace chassis::symbolic {

/// A runtime value: a scalar in `s` (bool 0/1, int integral, enum index, real), or an array
/// flattened row-major in `a` (then `s` is unused). The IR type says which.
struct Value {
  double s = 0;
  std::vector<double> a;

  static Value scalar(double v) { return {v, {}}; }
  static Value array(std::vector<double> v) { return {0, std::move(v)}; }
  friend bool operator==(const Value&, const Value&) = default;
};

/// The zero of a type (false, 0, 0.0, the first enum constant; arrays of those).
Value zeroValue(const ir::Type& t);

struct RunOptions {
  /// Addresses whose value is taken from here instead of drawn (and scored under the
  /// distribution at that point: e.g. a value outside the support gives logProb -inf).
  const std::unordered_map<std::string, double>* replay = nullptr;
  /// When false, choices are not stored (only the totals of the Trace are kept).
  bool recordChoices = true;
};

struct RunResult {
  std::vector<Value> outputs; // in the function's output order
  Trace trace;
  std::vector<Value> frame; // every variable's final value, by slot (Function::vars())
};

/// Runs `f` once. `inputs` are in the function's input order and must have the input types
/// (checked: a wrong count, shape or range is an Error located at the function).
Expected<RunResult> run(const ir::Function& f, std::span<const Value> inputs, Rng& rng,
                        const RunOptions& options = {});

/// Evaluates a (pure) expression in `frame` (values by slot: a function's frame after a run, or a
/// property's frame of quantified variables); errors are located at `loc`. Call expressions run
/// their callee.
Expected<Value> evaluate(ir::Expr e, std::span<const Value> frame, const SourceLoc& loc);

/// Why `v` is not an acceptable value for input `k` of `f` (wrong shape, not integral, outside
/// the enum or the declared range): e.g. "input 'reading' = 250 is outside its range [0, 200]".
std::optional<std::string> checkInput(const ir::Function& f, size_t k, const Value& v);

/// A value as text: reals with the shortest round-trip digits, ints as integers, bools as
/// true/false, enums by constant name, arrays as [a, b, ...].
std::string formatValue(const Value& v, const ir::Type& t, const ir::Context& ctx);
// Numbers in messages use symbolic::formatNumber (symbolic/special.h): "250", "0.5".

} // namespace chassis::symbolic
