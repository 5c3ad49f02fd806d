// Interval evaluation of deterministic IR functions: the shared evaluator (symbolic/evaluator.h)
// in a domain whose scalars are closed intervals of reals, with sound, outward-rounded
// enclosures of every operation (directed rounding by error-free transformations for + - * / and
// sqrt, a few ulps of widening around the libm functions exp, log, tanh and sigmoid). Integer
// operations, the index check and comparisons are op_semantics.h's generic ones in an interval
// arithmetic whose conditions are three-valued (may be true, may be false).
//
// What an enclosure promises: for every point of the input box at which symbolic::run succeeds,
// each output of that run lies in the corresponding interval. A value-dependent step whose
// condition may go either way (select, && || =>, if, an index that may take several values)
// takes both ways and joins them (the hull); an arm that fails for certain is dropped. An
// operation that may fail at some points of the box (log of an interval reaching 0, a divisor
// interval holding 0, a result that may overflow, an index that may be out of range, an assert
// that may fail) marks the result `mayFail` and goes on over the points where it succeeds; one
// that fails at every point is an Error, located at the statement as the interpreter locates it.
// When `mayFail` is false, no point of the box fails.
//
// Not covered: random statements (sample, observe, condition, factor) and networks that are not
// loaded are Errors saying so. The verifier's IR -> Z3 encoder (verifier/ir_encoder.cpp) still
// carries its own interval enclosures alongside its terms, in its own expression visitor; that
// interval part could be this domain, but the verifier is not built on it yet.
#pragma once

#include "spec/error.h"
#include "spec/ir.h"

#include <span>
#include <vector>

namespace chassis::symbolic {

/// The closed interval [lo, hi] (lo <= hi).
struct Interval {
  double lo = 0, hi = 0;
  static Interval point(double v) { return {v, v}; }
  bool contains(double v) const { return lo <= v && v <= hi; }
  bool isPoint() const { return lo == hi; }
};

/// An interval value: a scalar `s`, or an array flattened row-major in `a`.
struct IntervalValue {
  Interval s;
  std::vector<Interval> a;
  static IntervalValue scalar(Interval v) { return {v, {}}; }
  static IntervalValue array(std::vector<Interval> v) { return {{}, std::move(v)}; }
};

struct IntervalResult {
  std::vector<IntervalValue> outputs; // in the function's output order
  bool mayFail = false;               // some points of the box may fail (see above)
};

/// Encloses the outputs of `f` over the box `inputs` (one value per input, in order: a scalar
/// interval, or one interval per element of an array input). Each input is intersected with its
/// declared range (ints and enums rounded inward to integers, bools to [0, 1]); an empty
/// intersection, a wrong count or shape is an Error located at the function.
Expected<IntervalResult> evaluateIntervals(const ir::Function& f,
                                           std::span<const IntervalValue> inputs);

} // namespace chassis::symbolic
