// The property checker: forall/exists, always, asserts, the range obligations of calls (see
// properties.h for the queries), the
// dispatch of pure network-output properties to the network engine (verifier/net_props.h) and
// of probability/expectation properties to prob_bounds. Every `violated` verdict is replayed in
// float64 (verifier/replay.h) before it is reported.
#include "verifier/properties.h"

#include "verifier/finite_domain.h"

#include "spec/rng.h"
#include "symbolic/interp.h"
#include "symbolic/special.h"
#include "verifier/ir_encoder.h"
#include "verifier/net_props.h"
#include "verifier/prob_bounds.h"
#include "verifier/replay.h"
#include "verifier/z3_limits.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iterator>
#include <map>
#include <set>
#include <span>

namespace chassis::verifier {

namespace {

using Clock = std::chrono::steady_clock;

/// The verdict on a run-based counterexample (always, assert, range obligation) by the rule of
/// LANGUAGE.md §8: `realProved` -- at the float64 point (inputs and choices), the property is
/// false over the reals (impossibleAt) -- decides `violated`; `float64False` -- the
/// interpreter's replay agrees -- only adds a floating-point note when it disagrees. A point
/// that only float64 makes false, or that neither confirms, is `unknown` with the reason: Z3's
/// model may be a real point between doubles, or one chosen under the enclosures of
/// exp/log/sqrt/sigmoid/tanh (IrEncoder::definitions()), which over-approximate.
void runVerdict(PropertyResult& r, bool enclosures, bool realProved, bool float64False,
                bool float64Completed, const std::string& float64What) {
  if (realProved && (float64False || float64Completed)) {
    r.verdict = Verdict::Violated;
    if (!float64False)
      r.reason = "floating-point note: over the reals the property is false here, while the "
                 "float64 replay differs (" +
                 float64What + ")";
    return;
  }
  r.verdict = Verdict::Unknown;
  if (realProved) {
    // The float64 run fails before the property (a division by zero, log of 0): undefined there.
    r.reason = "over the reals the property is false at this point, but the float64 run fails "
               "there (" +
               float64What + ")";
  } else if (float64False) {
    r.reason = "float64 evaluates the property false at this point, but over the reals it is not "
               "false there: a floating-point rounding effect, not a counterexample";
  } else if (enclosures) {
    r.reason = "the point found under the enclosures of transcendental functions is not a "
               "counterexample (float64: " +
               float64What + ")";
  } else {
    r.reason = "Z3's counterexample over the reals is not a float64 point, and rounded to float64 "
               "it is not one (float64: " +
               float64What + ")";
  }
}

/// The choice's value has positive prior mass: `always` and asserts are about the traces of
/// positive prior density, and the encoder's support constraint is the support of any valid
/// parameters ({false, true} for Bernoulli), which includes values of mass zero at these
/// parameters (true under Bernoulli(0)). Always satisfiable for valid parameters (some value has
/// positive mass), so it never empties a path where the choice is not drawn.
z3::expr positiveMass(z3::context& c, const SymChoice& ch) {
  switch (ch.dist) {
  case DistKind::Bernoulli:
    if (ch.params.size() == 1 && ch.var.is_bool())
      return z3::implies(ch.var, ch.params[0] > 0) && z3::implies(!ch.var, ch.params[0] < 1);
    break;
  case DistKind::Binomial:
    if (ch.params.size() == 2 && ch.var.is_int())
      return (ch.params[1] > 0 || ch.var == 0) && (ch.params[1] < 1 || ch.var == ch.params[0]);
    break;
  case DistKind::Categorical:
    if (!ch.params.empty() && ch.var.is_int()) {
      z3::expr some = c.bool_val(false), total = c.real_val(0);
      for (size_t k = 0; k < ch.params.size(); ++k) {
        some = some || (ch.var == c.int_val(int64_t(k)) && ch.params[k] > 0);
        total = total + ch.params[k];
      }
      return z3::implies(total > 0, some);
    }
    break;
  default:
    break;
  }
  return c.bool_val(true);
}

/// Z3's answer as SMT-LIB2 prints it.
std::string answerText(z3::check_result r) {
  return r == z3::sat ? "sat" : r == z3::unsat ? "unsat" : "unknown";
}


/// One verifier query on `s`: the encoder's assumptions, with `withChoices` every random choice
/// restricted to values of positive mass, then `goal`; written as SMT-LIB2 (with Z3's answer)
/// when asked. An `unknown` answer sets r's verdict and reason; sat and unsat are the caller's.
z3::check_result checkQuery(z3::solver& s, z3::context& c, const IrEncoder& enc, bool withChoices,
                            const z3::expr& goal, const VerifyOptions& o, PropertyResult& r) {
  if (run::stopRequested()) { // the run is stopping: no new query
    r.verdict = Verdict::Unknown;
    r.reason = stopWord();
    return z3::unknown;
  }
  applyQueryLimits(s, c, o.timeoutSec);
  for (const z3::expr& a : enc.assumptions())
    s.add(a);
  if (withChoices)
    for (const SymChoice& ch : enc.choices())
      s.add(positiveMass(c, ch));
  s.add(goal);
  if (o.emitSmt2) r.smt2.push_back(s.to_smt2());
  z3::check_result res;
  {
    Z3StopGuard stopGuard(c);
    res = s.check();
  }
  if (o.emitSmt2) r.smt2Answers.push_back(answerText(res));
  if (res == z3::unknown) {
    r.verdict = Verdict::Unknown;
    // A query cut short by the run's stop says why the run stopped, not Z3's "canceled".
    r.reason = run::stopRequested() ? stopWord() : "Z3: " + s.reason_unknown();
  }
  return res;
}

std::string fmt(const symbolic::Value& v, const ir::Type& t, const ir::Context& ctx) {
  return symbolic::formatValue(v, t, ctx);
}

/// False when some division or remainder in `e` has a zero divisor in `m` (Z3 gives x / 0 an
/// arbitrary value, so a model relying on it is no point of the real semantics, where the
/// operation is undefined).
bool divisorsNonzero(const z3::expr& e, const z3::model& m) {
  std::set<unsigned> seen;
  std::vector<z3::expr> todo{e};
  while (!todo.empty()) {
    z3::expr t = todo.back();
    todo.pop_back();
    if (!t.is_app() || !seen.insert(Z3_get_ast_id(t.ctx(), t)).second) continue;
    Z3_decl_kind k = t.decl().decl_kind();
    if ((k == Z3_OP_DIV || k == Z3_OP_IDIV || k == Z3_OP_MOD || k == Z3_OP_REM) &&
        t.num_args() == 2) {
      z3::expr zero = m.eval(t.arg(1) == 0, true);
      if (!zero.is_false()) return false;
    }
    for (unsigned i = 0; i < t.num_args(); ++i)
      todo.push_back(t.arg(i));
  }
  return true;
}

/// forall / exists over a box (no alternation), with exp/log/sigmoid/tanh enclosed by `pieces`
/// pieces. True when the answer is `unknown` because a candidate found under those enclosures
/// is not proved: more pieces may decide it (refineEnclosures).
bool checkQuantified(const ir::Program& prog, const ir::Property& p, const VerifyOptions& o,
                     PropertyResult& r, int pieces) {
  bool allForall = true, allExists = true;
  for (const ir::QuantVar& q : p.vars)
    (q.exists ? allForall : allExists) = false;
  if (!allForall && !allExists) {
    r.verdict = Verdict::Unknown;
    r.reason = "alternating quantifiers are not supported";
    return false;
  }
  bool existential = !p.vars.empty() && allExists;
  z3::context c;
  IrEncoder enc(c);
  enc.setEnclosurePieces(pieces);
  bool coarse = false;
  std::vector<SymValue> vals;
  Status st = IrEncoder::guard([&]() -> Status {
    for (const ir::QuantVar& q : p.vars) {
      SymValue v = enc.freshVar(q.var->name(), q.var->type(), q.lo, q.hi);
      vals.push_back(v);
      enc.bind(q.var, v);
    }
    auto body = enc.encode(p.body);
    if (!body) return body.error();
    z3::solver s(c);
    z3::check_result res =
        checkQuery(s, c, enc, false, existential ? body->e[0] : !body->e[0], o, r);
    if (res == z3::unknown) return Status::ok();
    if (res == z3::unsat) {
      r.verdict = existential ? Verdict::Violated : Verdict::Holds;
      if (existential)
        r.reason = "no witness exists (proved: the existential body is unsatisfiable)";
      return Status::ok();
    }
    // A model: a counterexample (forall) or a witness (exists), replayed in float64.
    z3::model m = s.get_model();
    std::vector<symbolic::Value> frame(size_t(p.numSlots));
    for (size_t i = 0; i < p.vars.size(); ++i)
      frame[size_t(p.vars[i].var->slot())] = modelValue(m, vals[i], p.vars[i].var->type());
    auto box = [&](size_t i) { return std::pair{p.vars[i].lo, p.vars[i].hi}; };
    std::vector<ir::Var const*> qv;
    std::vector<std::pair<double, double>> boxes;
    for (size_t i = 0; i < p.vars.size(); ++i) {
      qv.push_back(p.vars[i].var);
      boxes.push_back(box(i));
    }
    // The point must be proved over the reals (LANGUAGE.md §8, "Counterexamples"), then
    // replayed in float64; Z3's own model is exact only without enclosures and divisions by zero.
    RealPointCheck real(p.body, qv, boxes, std::min(o.timeoutSec, 10.0));
    ReplayOutcome out = replayBody(p.body, frame, qv, boxes, !existential, p.loc, o.seed, &real);
    auto pointText = [&](const std::vector<symbolic::Value>& fr) {
      std::string t;
      for (size_t i = 0; i < p.vars.size(); ++i)
        t += (i ? ", " : "") + p.vars[i].var->name() + " = " +
             fmt(fr[size_t(p.vars[i].var->slot())], p.vars[i].var->type(), prog.ctx());
      return t;
    };
    for (size_t i = 0; i < p.vars.size(); ++i)
      r.counterexample.push_back(
          {p.vars[i].var->name(),
           fmt(out.frame[size_t(p.vars[i].var->slot())], p.vars[i].var->type(), prog.ctx())});
    r.valueAtCounterexample = out.value;
    std::vector<std::string> notes;
    // Z3's model where the body fails in the interpreter (a division by zero, log of 0): Z3
    // gives such an operation an arbitrary value, so its point is no counterexample; say so.
    if (out.modelValue.rfind("error: ", 0) == 0)
      notes.push_back("Z3's model (" + pointText(out.modelFrame) +
                      ") is a point where the property is undefined: " + out.modelValue.substr(7) +
                      (out.frame != out.modelFrame ? "; the point shown is a nearby one" : ""));
    if (out.realProved && !out.replayed)
      notes.push_back("floating-point note: over the reals the property is " +
                      std::string(existential ? "true" : "false") +
                      " here, while float64 evaluates it " + out.value + " (rounding)");
    auto joined = [&]() {
      std::string t;
      for (const std::string& n : notes)
        t += (t.empty() ? "" : "; ") + n;
      return t;
    };
    if (out.realProved) {
      r.verdict = existential ? Verdict::Holds : Verdict::Violated;
      if (existential) notes.insert(notes.begin(), "witness proved over the reals");
      r.reason = joined();
      return Status::ok();
    }
    // No float64 point proved. Z3's own (exact, perhaps irrational) point decides when the
    // encoding is exact there: nothing relaxed, and no division by zero at the model.
    if (!enc.relaxed() && divisorsNonzero(body->e[0], m)) {
      r.verdict = existential ? Verdict::Holds : Verdict::Violated;
      r.counterexample.clear();
      for (size_t i = 0; i < p.vars.size(); ++i) {
        std::string v;
        for (const z3::expr& t : vals[i].e) {
          z3::expr x = m.eval(t, true);
          std::string d = x.is_bool() ? (x.is_true() ? "true" : "false") : x.get_decimal_string(20);
          v += (v.empty() ? "" : ", ") + d;
        }
        if (vals[i].e.size() != 1) v = "[" + v + "]";
        r.counterexample.push_back({p.vars[i].var->name(), v + " (exact, not a float64 number)"});
      }
      r.valueAtCounterexample = out.modelValue;
      notes.insert(notes.begin(),
                   std::string(existential ? "witness" : "counterexample") +
                       " proved at Z3's exact point over the reals ('?' ends a rounded decimal); "
                       "floating-point note: at the nearest float64 point the property is " +
                       out.modelValue);
      r.reason = joined();
      return Status::ok();
    }
    // Not proved over the reals at any point: no verdict.
    r.verdict = Verdict::Unknown;
    r.counterexample.clear();
    r.valueAtCounterexample.clear();
    std::string what = existential ? "witness" : "counterexample";
    std::string why = "Z3 found a candidate " + what + ", but no float64 point near it is " +
                      (existential ? "proved a witness" : "proved a counterexample") +
                      " over the reals";
    if (!out.float64Only.empty())
      why += "; float64 evaluates the property " + std::string(existential ? "true" : "false") +
             " at " + pointText(out.float64Only) +
             ", a floating-point rounding effect there, not a " + what;
    if (!enc.definitions().empty())
      why += "; the candidate came from the enclosures of transcendental functions";
    if (!real.error().empty()) why += "; the real check failed: " + real.error();
    notes.insert(notes.begin(), why);
    r.reason = joined();
    coarse = enc.numPiecewise() > 0;
    return Status::ok();
  });
  if (!st) {
    r.verdict = Verdict::Unknown;
    r.reason = st.error().message;
    return false;
  }
  if (enc.numPiecewise() > 0)
    r.method = "Z3, enclosures of " + std::to_string(pieces) + " pieces";
  return coarse;
}

/// The refinement schedule of verifier/ir_encoder.h (kEnclosureRounds: 8, 32, 128 pieces per
/// enclosure of exp/log/sigmoid/tanh): `check(pieces, result, options)` runs one round in a fresh
/// Z3 context and returns true when its `unknown` comes from a candidate that coarse enclosures
/// admit but that is not proved a counterexample (or witness); then the next round re-encodes
/// with more pieces. The rounds share the property's time budget. After the last round the
/// reason says that refinement did not decide it.
template <typename Check>
void refineEnclosures(PropertyResult& r, const VerifyOptions& o, Check check) {
  bool limited = o.timeoutSec > 0; // otherwise no time limit
  auto deadline = Clock::now() + std::chrono::duration<double>(limited ? o.timeoutSec : 0);
  constexpr size_t kRounds = std::size(kEnclosureRounds);
  for (size_t round = 0; round < kRounds; ++round) {
    VerifyOptions ro = o;
    if (limited)
      ro.timeoutSec =
          std::max(1e-3, std::chrono::duration<double>(deadline - Clock::now()).count());
    PropertyResult attempt;
    attempt.name = r.name;
    attempt.loc = r.loc;
    bool coarse = check(kEnclosureRounds[round], attempt, ro);
    // Queries of every round are part of the story --emit=smt2 tells.
    std::vector<std::string> smt2 = std::move(r.smt2), answers = std::move(r.smt2Answers);
    smt2.insert(smt2.end(), attempt.smt2.begin(), attempt.smt2.end());
    answers.insert(answers.end(), attempt.smt2Answers.begin(), attempt.smt2Answers.end());
    r = std::move(attempt);
    r.smt2 = std::move(smt2);
    r.smt2Answers = std::move(answers);
    if (!coarse) return;
    if (round + 1 == kRounds || (limited && Clock::now() >= deadline)) {
      std::string tried;
      for (size_t k = 0; k <= round; ++k)
        tried += (k ? ", " : "") + std::to_string(kEnclosureRounds[k]);
      r.reason += std::string(r.reason.empty() ? "" : "; ") + kRelaxationTooCoarse +
                  " to decide it (tried " + tried + " pieces" +
                  (round + 1 < kRounds ? ", then the time limit" : "") + ")";
      return;
    }
  }
}

/// Fresh inputs of `f` constrained to their declared ranges.
std::vector<SymValue> rangedInputs(IrEncoder& enc, const ir::Function& f) {
  std::vector<SymValue> in;
  for (const ir::Param& prm : f.inputs()) {
    double lo = prm.range ? prm.range->first : -INFINITY,
           hi = prm.range ? prm.range->second : INFINITY;
    in.push_back(enc.freshVar("input!" + prm.var->name(), prm.var->type(), lo, hi));
  }
  return in;
}

/// The inputs and choices of a model, for a replay.
void readModel(const z3::model& m, const ir::Function& f, const std::vector<SymValue>& ins,
               const IrEncoder& enc, std::vector<symbolic::Value>& inputs,
               std::unordered_map<std::string, double>& choices) {
  for (size_t i = 0; i < ins.size(); ++i)
    inputs.push_back(modelValue(m, ins[i], f.inputs()[i].var->type()));
  for (const SymChoice& ch : enc.choices()) {
    z3::expr v = m.eval(ch.var, true);
    choices[ch.address] = numeralToDouble(v);
  }
}

/// always[M](e) with enclosures of `pieces` pieces; true when refinement may decide an
/// `unknown` (see checkQuantified).
bool checkAlways(const ir::Program& prog, const ir::Property& p, const VerifyOptions& o,
                 PropertyResult& r, int pieces) {
  const ir::Function& f = *p.module;
  z3::context c;
  IrEncoder enc(c);
  enc.setEnclosurePieces(pieces);
  bool coarse = false;
  Status st = IrEncoder::guard([&]() -> Status {
    std::vector<SymValue> ins = rangedInputs(enc, f);
    auto ex = enc.execute(f, ins);
    if (!ex) return ex.error();
    for (auto& [v, val] : ex->vars)
      enc.bind(v, val);
    auto body = enc.encode(p.body);
    if (!body) return body.error();
    z3::solver s(c);
    z3::check_result res = checkQuery(s, c, enc, true, !body->e[0], o, r);
    if (res == z3::unknown) return Status::ok();
    if (res == z3::unsat) {
      r.verdict = Verdict::Holds;
      return Status::ok();
    }
    std::vector<symbolic::Value> inputs;
    std::unordered_map<std::string, double> choices;
    readModel(s.get_model(), f, ins, enc, inputs, choices);
    RunReplay rr = replayRun(f, inputs, choices, p.body, nullptr, o.seed);
    std::vector<z3::expr> fixes;
    for (size_t i = 0; i < inputs.size(); ++i)
      fixAtPoint(enc, ins[i], inputs[i], fixes);
    fixChoices(enc, choices, fixes);
    bool realProved = impossibleAt(enc, fixes, body->e[0], std::min(o.timeoutSec, 10.0));
    for (size_t i = 0; i < inputs.size(); ++i)
      r.counterexample.push_back(
          {f.inputs()[i].var->name(), fmt(inputs[i], f.inputs()[i].var->type(), prog.ctx())});
    for (auto& [addr, val] : rr.choices)
      r.counterexample.push_back({addr, symbolic::formatNumber(val)});
    r.valueAtCounterexample = rr.value;
    runVerdict(r, !enc.definitions().empty(), realProved, rr.ok && rr.bodyFalse, rr.ok,
               rr.ok ? rr.value : rr.message);
    coarse = r.verdict == Verdict::Unknown && !realProved && enc.numPiecewise() > 0;
    return Status::ok();
  });
  if (!st) {
    r.verdict = Verdict::Unknown;
    r.reason = st.error().message;
    return false;
  }
  if (enc.numPiecewise() > 0)
    r.method = "Z3, enclosures of " + std::to_string(pieces) + " pieces";
  return coarse;
}

} // namespace

PropertyResult verifyProperty(const ir::Program& program, const ir::Property& prop,
                              const VerifyOptions& opts) {
  auto t0 = Clock::now();
  // Pure network-output properties go to the network engine (branch and bound with bound
  // propagation) first; nullopt means the property is not one (verifier/net_props.h).
  std::string notNetwork; // why a network the property calls is not read as a chain of layers
  if (std::optional<PropertyResult> nr = verifyNetworkProperty(program, prop, opts, &notNetwork)) {
    if (nr->name.empty()) nr->name = prop.name;
    if (nr->loc.line == 0) nr->loc = prop.loc;
    nr->seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return *nr;
  }
  PropertyResult r;
  r.name = prop.name;
  r.loc = prop.loc;
  // Quantified properties over a small finite domain: one short Z3 query, then every point,
  // each proved over the reals (verifier/finite_domain.h).
  if (enumerable(program, prop, opts)) {
    VerifyOptions quick = opts;
    quick.timeoutSec = std::min(opts.timeoutSec, kQuickZ3Seconds);
    refineEnclosures(r, quick, [&](int pieces, PropertyResult& a, const VerifyOptions& o) {
      return checkQuantified(program, prop, o, a, pieces);
    });
    const double spent = std::chrono::duration<double>(Clock::now() - t0).count();
    if (r.verdict == Verdict::Unknown && opts.timeoutSec > spent) {
      VerifyOptions rest = opts;
      rest.timeoutSec = opts.timeoutSec - spent;
      if (std::optional<PropertyResult> er = verifyByEnumeration(program, prop, rest)) {
        if (er->verdict == Verdict::Unknown)
          er->reason = "Z3 in " + ir::formatReal(quick.timeoutSec) + " s: " + r.reason +
                       "; enumeration: " + er->reason;
        r = std::move(*er);
      }
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return r;
  }
  switch (prop.kind) {
  case ir::PropertyKind::Forall:
  case ir::PropertyKind::Exists:
    refineEnclosures(r, opts, [&](int pieces, PropertyResult& a, const VerifyOptions& o) {
      return checkQuantified(program, prop, o, a, pieces);
    });
    if (!notNetwork.empty())
      r.method = (r.method.empty() ? std::string("Z3") : r.method) +
                 "; not the network engine: " + notNetwork;
    break;
  case ir::PropertyKind::Always:
    refineEnclosures(r, opts, [&](int pieces, PropertyResult& a, const VerifyOptions& o) {
      return checkAlways(program, prop, o, a, pieces);
    });
    break;
  case ir::PropertyKind::Probability:
  case ir::PropertyKind::Expectation:
    checkProbability(program, prop, opts, r);
    break;
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

namespace {

/// The asserts of module `f` checked with enclosures of `pieces` pieces: one result per assert
/// at depth 0, in execution order; `coarse[k]` is true when result k is `unknown` because a
/// candidate admitted by those enclosures is not proved (more pieces may decide it).
Status checkModuleAsserts(const ir::Program& program, const ir::Function& f,
                          const VerifyOptions& opts, int pieces, std::vector<PropertyResult>& mine,
                          std::vector<bool>& coarse) {
  z3::context c;
  IrEncoder enc(c);
  enc.setEnclosurePieces(pieces);
  return IrEncoder::guard([&]() -> Status {
    std::vector<SymValue> ins = rangedInputs(enc, f);
    auto ex = enc.execute(f, ins);
    if (!ex) return ex.error();
    for (const SymAssert& a : enc.asserts()) {
      if (a.depth != 0) continue;
      PropertyResult r;
      r.name = "assert@" + f.name() + ":" + std::to_string(a.loc.line);
      r.loc = a.loc;
      bool maybeFiner = false;
      z3::solver s(c);
      z3::check_result res = checkQuery(s, c, enc, true, a.pathCond && !a.cond, opts, r);
      if (res == z3::unknown) {
        // verdict and reason set by checkQuery
      } else if (res == z3::unsat) {
        r.verdict = Verdict::Holds;
      } else {
        std::vector<symbolic::Value> inputs;
        std::unordered_map<std::string, double> choices;
        readModel(s.get_model(), f, ins, enc, inputs, choices);
        RunReplay rr = replayRun(f, inputs, choices, nullptr, &a.loc, opts.seed);
        std::vector<z3::expr> fixes;
        for (size_t i = 0; i < inputs.size(); ++i)
          fixAtPoint(enc, ins[i], inputs[i], fixes);
        fixChoices(enc, choices, fixes);
        bool realProved =
            impossibleAt(enc, fixes, !(a.pathCond && !a.cond), std::min(opts.timeoutSec, 10.0));
        for (size_t i = 0; i < inputs.size(); ++i)
          r.counterexample.push_back({f.inputs()[i].var->name(),
                                      fmt(inputs[i], f.inputs()[i].var->type(), program.ctx())});
        for (auto& [addr, val] : rr.choices)
          r.counterexample.push_back({addr, symbolic::formatNumber(val)});
        r.valueAtCounterexample = rr.value;
        runVerdict(r, !enc.definitions().empty(), realProved, rr.ok && rr.bodyFalse,
                   rr.message.rfind("the run completes", 0) == 0, rr.ok ? rr.value : rr.message);
        maybeFiner = r.verdict == Verdict::Unknown && !realProved && enc.numPiecewise() > 0;
      }
      if (enc.numPiecewise() > 0)
        r.method = "Z3, enclosures of " + std::to_string(pieces) + " pieces";
      mine.push_back(std::move(r));
      coarse.push_back(maybeFiner);
    }
    return Status::ok();
  });
}

/// The end of one module's asserts or range obligations (`mine`, in order): the results a
/// relaxation too coarse left unknown (coarse[k]) say so with the finest refinement tried; a
/// failed check (st) becomes one unknown result `kind` + the module's name; the module's time is
/// split evenly between its results, which are appended to `out`.
void finishModule(std::vector<PropertyResult> mine, const std::vector<bool>& coarse,
                  int lastPieces, const Status& st, std::string_view kind, const ir::Function& f,
                  Clock::time_point t0, std::vector<PropertyResult>& out) {
  for (size_t k = 0; k < mine.size() && st; ++k)
    if (coarse[k])
      mine[k].reason += std::string(mine[k].reason.empty() ? "" : "; ") + kRelaxationTooCoarse +
                        " to decide it (tried up to " + std::to_string(lastPieces) + " pieces)";
  if (!st) {
    PropertyResult r;
    r.name = std::string(kind) + f.name();
    r.loc = f.loc();
    r.verdict = Verdict::Unknown;
    r.reason = st.error().message;
    mine = {r};
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  for (auto& r : mine) {
    r.seconds = secs / double(mine.size());
    out.push_back(std::move(r));
  }
}

} // namespace

std::vector<PropertyResult> verifyAsserts(const ir::Program& program, const VerifyOptions& opts) {
  std::vector<PropertyResult> out;
  for (const auto& fp : program.functions()) {
    const ir::Function& f = *fp;
    if (f.kind() != ir::FunctionKind::Module) continue;
    bool any = false;
    ir::forEachStmt(f.body(), [&](ir::Stmt s) { any = any || s->kind() == ir::StmtKind::Assert; });
    if (!any) continue;
    auto t0 = Clock::now();
    std::vector<PropertyResult> mine;
    std::vector<bool> coarse;
    Status st = checkModuleAsserts(program, f, opts, kEnclosureRounds[0], mine, coarse);
    // The refinement schedule (refineEnclosures) for the asserts a coarse round left open: the
    // module is executed again with more pieces, and only those results are replaced (the
    // asserts come in the same order: the execution is deterministic).
    int lastPieces = kEnclosureRounds[0];
    for (size_t round = 1; st && round < std::size(kEnclosureRounds); ++round) {
      if (std::find(coarse.begin(), coarse.end(), true) == coarse.end()) break;
      double left = opts.timeoutSec - std::chrono::duration<double>(Clock::now() - t0).count();
      if (opts.timeoutSec > 0 && left <= 0) break;
      VerifyOptions ro = opts;
      if (opts.timeoutSec > 0) ro.timeoutSec = left;
      std::vector<PropertyResult> finer;
      std::vector<bool> finerCoarse;
      Status fs = checkModuleAsserts(program, f, ro, kEnclosureRounds[round], finer, finerCoarse);
      if (!fs || finer.size() != mine.size()) break;
      lastPieces = kEnclosureRounds[round];
      for (size_t k = 0; k < mine.size(); ++k)
        if (coarse[k]) {
          mine[k] = std::move(finer[k]);
          coarse[k] = finerCoarse[k];
        }
    }
    finishModule(std::move(mine), coarse, lastPieces, st, "assert@", f, t0, out);
  }
  return out;
}

namespace {

/// The message that marks an assert added by the range instrumentation below (a user's assert
/// message cannot start with a control character).
constexpr const char* kRangeTag = "\x01range#";

bool hasRange(const ir::Function& g) {
  for (const ir::Param& p : g.inputs())
    if (p.range) return true;
  return false;
}

/// One range obligation: a ranged call in the checked module's own body.
struct RangeSite {
  SourceLoc loc;      // the statement's location: where the interpreter reports the range error
  std::string callee; // the called function
};

/// `lo <= a && a <= hi` for every scalar of argument `a` (arrays element by element).
ir::Expr inRange(ir::Context& ctx, ir::Expr a, const std::pair<double, double>& r) {
  const ir::Type& t = a->type();
  if (t.isArray()) {
    ir::Expr all = ctx.boolConst(true);
    for (int i = 0; i < t.length(); ++i)
      all = ctx.binary(ir::BinOp::And, all, inRange(ctx, ctx.index(a, ctx.intConst(i)), r));
    return all;
  }
  bool isInt = t.scalar == ir::ScalarKind::Int;
  auto bound = [&](double v, bool up) {
    return isInt ? ctx.intConst(int64_t(up ? std::floor(v) : std::ceil(v))) : ctx.realConst(v);
  };
  ir::Expr ok = ctx.boolConst(true); // an infinite end bounds nothing
  if (std::isfinite(r.first))
    ok = ctx.binary(ir::BinOp::And, ok, ctx.binary(ir::BinOp::Le, bound(r.first, false), a));
  if (std::isfinite(r.second))
    ok = ctx.binary(ir::BinOp::And, ok, ctx.binary(ir::BinOp::Le, a, bound(r.second, true)));
  return ok;
}

/// The conjunction of the declared ranges of `callee` on `args`.
ir::Expr callInRange(ir::Context& ctx, const ir::Function& callee, std::span<const ir::Expr> args) {
  ir::Expr all = ctx.boolConst(true);
  for (size_t i = 0; i < callee.inputs().size() && i < args.size(); ++i)
    if (callee.inputs()[i].range)
      all = ctx.binary(ir::BinOp::And, all, inRange(ctx, args[i], *callee.inputs()[i].range));
  return all;
}

/// A ranged call inside an expression and the condition under which the interpreter evaluates
/// it (null: always): `c ? a : b` evaluates a under c and b under !c; `a && b` and `a => b`
/// evaluate b under a; `a || b` evaluates b under !a.
struct GuardedCall {
  const ir::Call* call;
  ir::Expr guard;
};

/// The ranged Call expressions inside `e` with their guards, innermost (argument) calls first.
void rangedCalls(ir::Expr e, ir::Expr guard, ir::Context& ctx,
                 std::set<std::pair<ir::Expr, ir::Expr>>& seen, std::vector<GuardedCall>& out) {
  if (!seen.insert({e, guard}).second) return;
  auto under = [&](ir::Expr g) { return guard ? ctx.binary(ir::BinOp::And, guard, g) : g; };
  if (auto* sel = e->as<ir::Select>()) {
    rangedCalls(sel->cond(), guard, ctx, seen, out);
    rangedCalls(sel->ifTrue(), under(sel->cond()), ctx, seen, out);
    rangedCalls(sel->ifFalse(), under(ctx.unary(ir::UnOp::Not, sel->cond())), ctx, seen, out);
    return;
  }
  if (auto* b = e->as<ir::Binary>()) {
    ir::BinOp op = b->op();
    if (op == ir::BinOp::And || op == ir::BinOp::Or || op == ir::BinOp::Implies) {
      rangedCalls(b->lhs(), guard, ctx, seen, out);
      ir::Expr g = op == ir::BinOp::Or ? ctx.unary(ir::UnOp::Not, b->lhs()) : b->lhs();
      rangedCalls(b->rhs(), under(g), ctx, seen, out);
      return;
    }
  }
  for (ir::Expr o : e->operands())
    rangedCalls(o, guard, ctx, seen, out);
  if (auto* c = e->as<ir::Call>())
    if (hasRange(c->callee())) out.push_back({c, guard});
}

/// `b` with, before each statement that calls a ranged function, one tagged assert per such call
/// stating that its arguments are in the callee's ranges (`guard => in range` for a guarded call)
/// (at the statement's location, in the interpreter's evaluation order: the calls in the
/// statement's expressions, then a CallStmt's callee). Nested blocks are rebuilt the same way.
ir::Block instrument(const ir::Block& b, ir::Context& ctx, std::vector<RangeSite>& sites) {
  ir::Block out;
  for (ir::Stmt s : b) {
    std::set<std::pair<ir::Expr, ir::Expr>> seen;
    std::vector<GuardedCall> calls;
    ir::forEachExpr(s, [&](ir::Expr e) { rangedCalls(e, nullptr, ctx, seen, calls); });
    auto add = [&](const ir::Function& callee, std::span<const ir::Expr> args, ir::Expr guard) {
      std::string tag = kRangeTag + std::to_string(sites.size());
      sites.push_back({s->loc(), callee.name()});
      ir::Expr ok = callInRange(ctx, callee, args);
      if (guard) ok = ctx.binary(ir::BinOp::Implies, guard, ok);
      out.push_back(ctx.stmt<ir::AssertStmt>(s->loc(), ok, tag));
    };
    for (const GuardedCall& c : calls)
      add(c.call->callee(), c.call->args(), c.guard);
    if (auto* cs = s->as<ir::CallStmt>())
      if (hasRange(*cs->callee)) add(*cs->callee, cs->args, nullptr);
    if (auto* i = s->as<ir::IfStmt>()) {
      ir::Block thenBody = instrument(i->thenBody, ctx, sites); // numbered in source order
      ir::Block elseBody = instrument(i->elseBody, ctx, sites);
      out.push_back(
          ctx.stmt<ir::IfStmt>(i->loc(), i->cond, std::move(thenBody), std::move(elseBody)));
    } else if (auto* l = s->as<ir::ForStmt>()) {
      out.push_back(
          ctx.stmt<ir::ForStmt>(l->loc(), l->index, l->lo, l->hi, instrument(l->body, ctx, sites)));
    } else {
      out.push_back(s);
    }
  }
  return out;
}

/// A model of a violated obligation, kept for the replay.
struct PendingReplay {
  size_t result; // index into the module's results
  std::vector<symbolic::Value> inputs;
  std::unordered_map<std::string, double> choices;
  bool enclosures = false; // the query used enclosures of transcendental functions
  bool realProved = false; // the obligation is violated at the float64 point over the reals
};

/// The range obligations `which` of module `f` (its instrumented `body`, `sites` in order) with
/// enclosures of `pieces` pieces: queried, and each model replayed on the program (the
/// interpreter must fail at the call with the callee's range error). Results go to mine[k];
/// coarse[k] is true when obligation k is `unknown` because a candidate admitted by those
/// enclosures is not proved (more pieces may decide it).
Status checkRangeSites(const ir::Program& program, const ir::Function& f, const ir::Block& body,
                       const std::vector<RangeSite>& sites, const VerifyOptions& opts, int pieces,
                       const std::vector<bool>& which, std::vector<PropertyResult>& mine,
                       std::vector<bool>& coarse) {
  std::vector<PendingReplay> pending;
  Status st = Status::ok();
  bool piecewise = false;
  {
    z3::context c;
    IrEncoder enc(c);
    enc.setEnclosurePieces(pieces);
    // The callees' ranges are what is to be proved: never assumed (at any depth). The module
    // runs its instrumented copy of the body; the program itself is not changed.
    enc.setCallRangeHook([](const IrEncoder::RangedCall&) { return false; });
    st = IrEncoder::guard([&]() -> Status {
      std::vector<SymValue> ins = rangedInputs(enc, f);
      auto ex = enc.execute(f, ins, "", &body);
      if (!ex) return ex.error();
      piecewise = enc.numPiecewise() > 0;
      // The violation of obligation k: some execution of its assert (a loop runs it once per
      // iteration) is on a taken path with the arguments outside the callee's ranges.
      std::vector<z3::expr> violation(sites.size(), c.bool_val(false));
      std::vector<bool> reached(sites.size(), false);
      size_t tagLen = std::string(kRangeTag).size();
      for (const SymAssert& a : enc.asserts()) {
        if (a.depth != 0 || a.message.compare(0, tagLen, kRangeTag) != 0) continue;
        size_t k = size_t(std::stoul(a.message.substr(tagLen)));
        violation[k] = violation[k] || (a.pathCond && !a.cond);
        reached[k] = true;
      }
      for (size_t k = 0; k < sites.size(); ++k) {
        if (!which[k]) continue;
        PropertyResult& r = mine[k];
        if (!reached[k]) {
          r.verdict = Verdict::Holds;
          r.reason = "the call of " + sites[k].callee + " is never executed";
          continue;
        }
        z3::solver s(c);
        z3::check_result res = checkQuery(s, c, enc, true, violation[k], opts, r);
        if (res == z3::unknown) {
          // verdict and reason set by checkQuery
        } else if (res == z3::unsat) {
          r.verdict = Verdict::Holds;
        } else {
          PendingReplay pr;
          pr.result = k;
          pr.enclosures = !enc.definitions().empty();
          readModel(s.get_model(), f, ins, enc, pr.inputs, pr.choices);
          std::vector<z3::expr> fixes;
          for (size_t i = 0; i < pr.inputs.size(); ++i)
            fixAtPoint(enc, ins[i], pr.inputs[i], fixes);
          fixChoices(enc, pr.choices, fixes);
          pr.realProved = impossibleAt(enc, fixes, !violation[k], std::min(opts.timeoutSec, 10.0));
          pending.push_back(std::move(pr));
        }
      }
      return Status::ok();
    });
  }
  if (!st) return st;
  // Replays on the program: the interpreter must fail at the call with the callee's range
  // error.
  for (PendingReplay& pr : pending) {
    PropertyResult& r = mine[pr.result];
    RunReplay rr = replayRun(f, pr.inputs, pr.choices, nullptr, &r.loc, opts.seed);
    for (size_t i = 0; i < pr.inputs.size(); ++i)
      r.counterexample.push_back({f.inputs()[i].var->name(),
                                  fmt(pr.inputs[i], f.inputs()[i].var->type(), program.ctx())});
    for (auto& [addr, val] : rr.choices)
      r.counterexample.push_back({addr, symbolic::formatNumber(val)});
    r.valueAtCounterexample = rr.value;
    bool rangeError = rr.value.find("outside its range") != std::string::npos;
    runVerdict(r, pr.enclosures, pr.realProved, rr.ok && rr.bodyFalse && rangeError,
               rr.message.rfind("the run completes", 0) == 0, rr.ok ? rr.value : rr.message);
    coarse[pr.result] = r.verdict == Verdict::Unknown && !pr.realProved && piecewise;
  }
  if (piecewise)
    for (size_t k = 0; k < sites.size(); ++k)
      if (which[k]) mine[k].method = "Z3, enclosures of " + std::to_string(pieces) + " pieces";
  return Status::ok();
}

} // namespace

std::vector<PropertyResult> verifyRangeObligations(const ir::Program& program,
                                                   const VerifyOptions& opts) {
  std::vector<PropertyResult> out;
  // The obligations' assert nodes live in a scratch Context of this call: they point at the
  // program's nodes (operands, callees, variables) but the program and its Context are only read,
  // so concurrent readers of one program (other properties, other threads) see no change.
  // The scratch nodes never meet the program's in a hash-consing table, only by pointer in the
  // encoder's memo, where distinct live nodes never alias.
  ir::Context scratch;
  ir::Context& ctx = scratch;
  for (const auto& fp : program.functions()) {
    const ir::Function& f = *fp;
    if (f.kind() != ir::FunctionKind::Module) continue;
    std::vector<RangeSite> sites;
    ir::Block body = instrument(f.body(), ctx, sites);
    if (sites.empty()) continue;
    auto t0 = Clock::now();
    std::vector<PropertyResult> mine(sites.size());
    std::map<std::string, int> seenNames;
    for (size_t k = 0; k < sites.size(); ++k) {
      const RangeSite& site = sites[k];
      std::string name = "range@" + f.name() + ":" + std::to_string(site.loc.line) + ":" +
                         std::to_string(site.loc.col);
      int n = seenNames[name]++;
      mine[k].name = n == 0 ? name : name + "." + std::to_string(n);
      mine[k].loc = site.loc;
    }
    // The refinement schedule (refineEnclosures): the obligations a coarse round left open are
    // checked again with more pieces (the module re-executed; sites keep their order).
    std::vector<bool> undecided(sites.size(), true), coarse(sites.size(), false);
    Status st = Status::ok();
    int lastPieces = kEnclosureRounds[0];
    for (size_t round = 0; round < std::size(kEnclosureRounds); ++round) {
      double left = opts.timeoutSec - std::chrono::duration<double>(Clock::now() - t0).count();
      if (round > 0 && opts.timeoutSec > 0 && left <= 0) break;
      VerifyOptions ro = opts;
      if (round > 0 && opts.timeoutSec > 0) ro.timeoutSec = left;
      std::vector<PropertyResult> attempt = mine;
      for (size_t k = 0; k < sites.size(); ++k)
        if (undecided[k]) {
          attempt[k] = PropertyResult();
          attempt[k].name = mine[k].name;
          attempt[k].loc = mine[k].loc;
        }
      std::vector<bool> roundCoarse(sites.size(), false);
      Status rs = checkRangeSites(program, f, body, sites, ro, kEnclosureRounds[round], undecided,
                                  attempt, roundCoarse);
      if (!rs) {
        if (round == 0) st = rs;
        break;
      }
      lastPieces = kEnclosureRounds[round];
      mine = std::move(attempt);
      coarse = roundCoarse;
      undecided = roundCoarse;
      if (std::find(undecided.begin(), undecided.end(), true) == undecided.end()) break;
    }
    finishModule(std::move(mine), coarse, lastPieces, st, "range@", f, t0, out);
  }
  return out;
}

} // namespace chassis::verifier
