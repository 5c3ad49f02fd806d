// Replaying the verifier's counterexamples: the values of a Z3 model read back as doubles, then
// the property re-evaluated twice at that float64 point:
//   in the reals   the point's coordinates fixed to the exact rationals of their doubles, Z3
//                  decides whether the body can take the other value there (RealPointCheck,
//                  realValueProved); unsat proves the body's value at the point over the reals;
//   in float64     the interpreter (symbolic::evaluate / symbolic::run) evaluates it.
// The rule (spec/LANGUAGE.md §8, "Counterexamples"): verdicts are about the reals, so a
// `violated` needs a float64 point where the body is PROVED false over the reals; the float64
// value is reported beside it (a disagreement is a floating-point note, never the verdict). A
// point that only float64 makes false (a rounding artefact: exp(log(x)) == x at
// x = 0.3000000000000409) is `unknown` with that reason. For a forall property whose Z3 model
// sits where rounding matters, nearby points of the box are tried (deterministically seeded).
#pragma once

#include "spec/ir.h"
#include "symbolic/interp.h"
#include "verifier/ir_encoder.h"
#include "verifier/problem.h"

#include <functional>
#include <optional>

#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace chassis::verifier {

/// A Z3 numeral (rational or algebraic) rounded to the nearest double (via 40 decimal digits).
double numeralToDouble(const z3::expr& e);

/// A variable's value in a model, as the interpreter holds it (bool 0/1, int, real; arrays).
symbolic::Value modelValue(const z3::model& m, const SymValue& v, const ir::Type& t);

/// Proves, at a float64 point, that a body has a given value over the reals: the body encoded
/// once over fresh variables (IrEncoder, its enclosures included: a proof under them is a proof);
/// at a point each variable is fixed to the exact rational (or int, bool) of its value and Z3
/// asked whether the other value is possible. Not proved: Z3 found it possible (a rounding
/// artefact, or an enclosure or a division by zero leaving it open), Z3 unknown, or an
/// encoding error (error() says which).
class RealPointCheck {
public:
  /// `timeoutSec` bounds all the checks of this object together.
  RealPointCheck(ir::Expr body, const std::vector<const ir::Var*>& vars,
                 const std::vector<std::pair<double, double>>& boxes, double timeoutSec);
  ~RealPointCheck();
  RealPointCheck(const RealPointCheck&) = delete;
  RealPointCheck& operator=(const RealPointCheck&) = delete;
  /// True when, at the point `frame` (indexed by slot), the body is `value` over the reals.
  bool proves(const std::vector<symbolic::Value>& frame, bool value);
  const std::string& error() const { return error_; }

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
};

/// The equalities fixing the terms of `v` to the exact values of `x` (reals as the exact rationals
/// of their doubles, ints and enums as integers, bools as 0/1), appended to `out`.
void fixAtPoint(IrEncoder& enc, const SymValue& v, const symbolic::Value& x,
                std::vector<z3::expr>& out);
/// The equalities fixing every random choice of `enc` to its value in `choices` (by address).
void fixChoices(IrEncoder& enc, const std::unordered_map<std::string, double>& choices,
                std::vector<z3::expr>& out);
/// True when `goal` is impossible at the point: unsat(assumptions /\ fixes /\ goal). Z3's
/// unknown is "not proved" (false).
bool impossibleAt(IrEncoder& enc, const std::vector<z3::expr>& fixes, const z3::expr& goal,
                  double timeoutSec);

struct ReplayOutcome {
  bool replayed = false;              // float64: the body has the expected value at `frame`
  bool realProved = false;            // reals: the body has the expected value at `frame`
  std::vector<symbolic::Value> frame; // the point finally evaluated
  std::string value;                  // the body's float64 value there ("false", "true", error)
  std::vector<symbolic::Value> modelFrame; // Z3's point, rounded to float64
  std::string modelValue;                  // the body's float64 value at Z3's point
  /// A point where float64 gives the expected value but the reals do not prove it (a rounding
  /// artefact, or undecided under enclosures); empty when none was met.
  std::vector<symbolic::Value> float64Only;
};

/// Evaluates `body` (bool) at `frame`; it should be false when `wantFalse`, true otherwise. If
/// not, up to 400 nearby points of the box are tried (real variables only). With `real`, a
/// point is accepted only when `real` also proves the expected value there over the reals
/// (at most 16 nearby points are checked so); when no nearby point is, Z3's own point is
/// returned, with realProved telling whether the reals decide it (float64 then disagrees).
ReplayOutcome replayBody(ir::Expr body, std::vector<symbolic::Value> frame,
                         const std::vector<const ir::Var*>& vars,
                         const std::vector<std::pair<double, double>>& boxes, bool wantFalse,
                         const SourceLoc& loc, uint64_t seed, RealPointCheck* real = nullptr);

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

/// A network counterexample moved towards the interior of its case's unsafe set
/// { x in box : C net(x) <= d }, for a point `x` too close to the boundary to replay through
/// another float64 evaluation of the network (the ONNX graph, whose operations the folded
/// AffineNet reorders) or in exact arithmetic. In x's linear region (its ReLU pattern) the
/// network is an affine map, so the constraint with the least slack d_r - C_r net(x) has the
/// exact gradient -C_r J; steps along it (scaled by the box's widths, clamped to the box) of
/// 1e-12 up to 1e-1 of the box are tried, three times from the deepest point so far, and the
/// accepted candidate (`accept`, e.g. replays through ONNX and is a counterexample in exact
/// arithmetic) with the largest float64 slack is returned; nullopt when none is accepted.
std::optional<Eigen::VectorXd>
deepenCounterexample(const neural::AffineNet& net, const CaseSpec& cs, const Eigen::VectorXd& x,
                     const std::function<bool(const Eigen::VectorXd&)>& accept);

} // namespace chassis::verifier
