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
#include "symbolic/shared_array.h"
#include "symbolic/trace.h"

#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace chassis::symbolic {

/// A runtime value: a scalar in `s` (bool 0/1, int integral, enum index, real), or an array
/// flattened row-major in `a` (then `s` is unused). The IR type says which. An array's storage
/// is shared between copies until one of them writes (symbolic/shared_array.h): copying a value
/// is O(1), so a suspended run (below) is copied without copying its arrays. An array literal of
/// constants (`[0.0, ...]`, the start of `var z: real[T]`) is built once per thread and its value
/// shared by every evaluation of it, in this run and later ones (interp.cpp, ConstantArrays).
struct Value {
  double s = 0;
  SharedArray a;

  static Value scalar(double v) { return {v, {}}; }
  static Value array(const std::vector<double>& v) { return {0, SharedArray(v)}; }
  friend bool operator==(const Value&, const Value&) = default;
};

/// The zero of a type (false, 0, 0.0, the first enum constant; arrays of those).
Value zeroValue(const ir::Type& t);

struct RunOptions {
  /// Addresses whose value is taken from here instead of drawn (and scored under the
  /// distribution at that point: e.g. a value outside the support gives logProb -inf).
  const std::unordered_map<std::string, double>* replay = nullptr;
  /// When false, choices are not stored (only the totals of the Trace are kept) and, without
  /// replay, no address is built: the cheapest run, for likelihood weighting.
  bool recordChoices = true;
  /// When >= 0: stop the run right after that many observe statements have run (0: before the
  /// first); RunResult::stopped tells that the run ended early (outputs are then empty). With
  /// resume() (below) the run can go on from where it stopped: SMC advances its particles so.
  int stopAfterObserves = -1;
};

struct RunResult {
  std::vector<Value> outputs; // in the function's output order (empty when stopped)
  Trace trace;
  std::vector<Value> frame; // every variable's final value, by slot (Function::vars())
  bool stopped = false;     // ended by RunOptions::stopAfterObserves
};

/// Runs `f` once. `inputs` are in the function's input order and must have the input types
/// (checked: a wrong count, shape or range is an Error located at the function).
Expected<RunResult> run(const ir::Function& f, std::span<const Value> inputs, Rng& rng,
                        const RunOptions& options = {});

/// Where a run of a function stopped (by RunOptions::stopAfterObserves) so that it can go on
/// from there: the control position (per nesting level, innermost first: a block's statement
/// index, a loop's iteration, an if's branch) and the frames of the calls in progress (innermost
/// first, the top-level frame last, its inputs left out). Copyable: SMC copies a particle's
/// suspension when it resamples. Default-constructed: a run that has not started.
struct Suspension {
  std::vector<int64_t> positions;
  std::vector<std::vector<Value>> frames;
  std::vector<std::string> prefixes; // the address prefix of each suspended callee
  bool started = false, finished = false;
};

/// Runs `f` from `at` (from the start when `at` has not started) until it stops again or ends,
/// and updates `at`. RunOptions::stopAfterObserves counts the observes of this call only, and
/// the returned trace holds only what this call did (its choices and its part of the weight).
/// When the run ends, `at.finished` is set and the result has the outputs and the frame. The
/// inputs are moved into the frame for the call and moved back before it returns (the caller
/// keeps them, e.g. one copy per thread, so that a suspension never copies them); they are
/// checked on the first call only. Running a finished suspension is an Error.
Expected<RunResult> resume(const ir::Function& f, std::span<Value> inputs, Suspension& at, Rng& rng,
                           const RunOptions& options);

/// Evaluates a (pure) expression in `frame` (values by slot: a function's frame after a run, or a
/// property's frame of quantified variables); errors are located at `loc`. Call expressions run
/// their callee.
Expected<Value> evaluate(ir::Expr e, std::span<const Value> frame, const SourceLoc& loc);

/// Why `v` is not an acceptable value for input `k` of `f` (wrong shape, not integral, outside
/// the enum or the declared range): e.g. "input 'reading' = 250 is outside its range [0, 200]".
std::optional<std::string> checkInput(const ir::Function& f, size_t k, const Value& v);

/// Parses a value of type `t` from command-line text: JSON syntax for numbers, true/false and
/// arrays ([1, 2.5, 3]); a bare word or a JSON string names an enum constant. `what` names the
/// value in messages, e.g. "input 'speed' should be real, got true".
Expected<Value> parseValue(std::string_view text, const ir::Type& t, const ir::Context& ctx,
                           const std::string& what);

/// Binds the keys of a JSON object (the text of a --data file named `file`) to the inputs of `f`
/// with the same names: result[k] is input k's value, or nullopt when no key names it (keys
/// that name no input are ignored). Malformed JSON is an Error at its line and column in `file`;
/// a value of the wrong type an Error naming the input. Ranges are not checked (checkInput).
Expected<std::vector<std::optional<Value>>> bindJsonInputs(const ir::Function& f,
                                                           const ir::Context& ctx,
                                                           std::string_view jsonText,
                                                           const std::string& file);

/// A value as text: reals with the shortest round-trip digits, ints as integers, bools as
/// true/false, enums by constant name, arrays as [a, b, ...].
std::string formatValue(const Value& v, const ir::Type& t, const ir::Context& ctx);
// Numbers in messages use symbolic::formatNumber (symbolic/special.h): "250", "0.5".

} // namespace chassis::symbolic
