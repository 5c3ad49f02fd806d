// Quantified properties over a finite domain, decided by enumeration instead of one Z3 query.
//
// Recognised: a `forall` or `exists` property (no alternation) whose variables are all bool, int
// or enum (scalars or arrays) over bounded ranges, with at most kMaxEnumeratedPoints points in
// the product of their domains. Anything else: nullopt (the Z3 path handles it).
//
// Z3 decides a property of two copies of a trained 32-ReLU network over nine bools (parity's
// `ignores_irrelevant_bits` with the network standing in) no faster than it decides the same
// property over the reals: the case splits of the ReLUs dominate, and the query times out at 30 s.
// Enumerating the 512 points, each with its inputs fixed, leaves Z3 only propagation to do.
//
// Per point, in the order of the domain (the first variable slowest):
//   the body is evaluated in float64 by the interpreter; then its value is PROVED over the reals
//   at the point (verifier/replay.h, RealPointCheck: the variables fixed to their values, Z3
//   asked whether the other value is possible), which is what a verdict needs (LANGUAGE.md §8);
//   forall: a point proved false is the counterexample (violated); holds needs every point
//   proved true; exists: symmetric (a point proved true is the witness).
// A point where the interpreter fails (a division by zero, a range error), or whose value is not
// proved, leaves no verdict: unknown, saying at which point and why (or nullopt when the
// interpreter fails, so that the Z3 path with its own rules for undefined operations decides).
// The time is bounded by VerifyOptions::timeoutSec for all the points together.
#pragma once

#include "spec/ir.h"
#include "verifier/properties.h"

#include <optional>

namespace chassis::verifier {

/// The largest finite domain (number of points) decided by enumeration.
constexpr long kMaxEnumeratedPoints = 4096;
/// verifyProperty gives Z3's single query this long (at most) on a property enumeration could
/// decide, before enumerating: Z3 decides a module's property over a few bools at once, while
/// enumeration pays a proof per point.
constexpr double kQuickZ3Seconds = 2.0;

/// True when `prop` is one verifyByEnumeration decides (see above).
bool enumerable(const ir::Program& program, const ir::Property& prop, const VerifyOptions& opts);

std::optional<PropertyResult> verifyByEnumeration(const ir::Program& program,
                                                  const ir::Property& prop,
                                                  const VerifyOptions& opts);

} // namespace chassis::verifier
