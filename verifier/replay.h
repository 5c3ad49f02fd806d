// Replaying the verifier's counterexamples in float64: the values of a Z3 model read back as
// doubles, then the property re-evaluated by the interpreter (symbolic::evaluate / symbolic::run),
// the ground truth. A `violated` verdict is reported only when its counterexample replays here.
// For a forall property whose Z3 model sits on a boundary that float64 rounding moves (e.g.
// x <= c exactly), nearby points of the box are tried (deterministically seeded); any point
// reported has been replayed.
#pragma once

#include "spec/ir.h"
#include "symbolic/interp.h"
#include "verifier/ir_encoder.h"

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace chassis::verifier {

/// A Z3 numeral (rational or algebraic) rounded to the nearest double (via 40 decimal digits).
double numeralToDouble(const z3::expr& e);

/// A variable's value in a model, as the interpreter holds it (bool 0/1, int, real; arrays).
symbolic::Value modelValue(const z3::model& m, const SymValue& v, const ir::Type& t);

struct ReplayOutcome {
  bool replayed = false;              // the body has the expected value at `frame`
  std::vector<symbolic::Value> frame; // the point finally evaluated
  std::string value;                  // the body's value there ("false", "true", or the error)
};

/// Evaluates `body` (bool) at `frame`; it should be false when `wantFalse`, true otherwise. If
/// not, up to 400 nearby points of the box are tried (real variables only).
ReplayOutcome replayBody(ir::Expr body, std::vector<symbolic::Value> frame,
                         const std::vector<const ir::Var*>& vars,
                         const std::vector<std::pair<double, double>>& boxes, bool wantFalse,
                         const SourceLoc& loc, uint64_t seed);

struct RunReplay {
  bool ok = false;        // the run replayed every choice, inside the support
  bool bodyFalse = false; // the event is false (or, for an assert, the assert failed there)
  std::string value;      // the event's value, or the assert's failure
  std::string message;    // why not ok
  std::vector<std::pair<std::string, double>> choices; // the trace's choices, in order
};

/// Runs `f` on `inputs` with `choices` replayed, then evaluates `body` over its frame; or, with
/// `assertLoc`, expects the run to fail at that assert.
RunReplay replayRun(const ir::Function& f, const std::vector<symbolic::Value>& inputs,
                    const std::unordered_map<std::string, double>& choices, ir::Expr body,
                    const SourceLoc* assertLoc, uint64_t seed);

} // namespace chassis::verifier
