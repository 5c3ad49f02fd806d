// Counterexample replay in float64 through the interpreter (see replay.h).
#include "verifier/replay.h"

#include "spec/rng.h"
#include "symbolic/special.h"

#include <cmath>
#include <cstdlib>

namespace chassis::verifier {

double numeralToDouble(const z3::expr& e) {
  if (e.is_true()) return 1;
  if (e.is_false()) return 0;
  if (!e.is_numeral() && !e.is_algebraic()) return 0; // unconstrained: Z3 completes with 0
  std::string s = e.get_decimal_string(40);
  if (!s.empty() && s.back() == '?') s.pop_back(); // algebraic numbers end with '?'
  return std::strtod(s.c_str(), nullptr);
}

symbolic::Value modelValue(const z3::model& m, const SymValue& v, const ir::Type& t) {
  std::vector<double> xs;
  for (const z3::expr& e : v.e) xs.push_back(numeralToDouble(m.eval(e, true)));
  if (t.isArray()) return symbolic::Value::array(std::move(xs));
  return symbolic::Value::scalar(xs.empty() ? 0 : xs[0]);
}

namespace {
std::string show(const Expected<symbolic::Value>& v) {
  if (!v) return "error: " + v.error().message;
  return v->s != 0 ? "true" : "false";
}
} // namespace

ReplayOutcome replayBody(ir::Expr body, std::vector<symbolic::Value> frame,
                         const std::vector<const ir::Var*>& vars,
                         const std::vector<std::pair<double, double>>& boxes, bool wantFalse,
                         const SourceLoc& loc, uint64_t seed) {
  ReplayOutcome out;
  auto good = [&](const Expected<symbolic::Value>& v) { return v && ((v->s == 0) == wantFalse); };
  auto v = symbolic::evaluate(body, frame, loc);
  out.value = show(v);
  out.frame = frame;
  if (good(v)) {
    out.replayed = true;
    return out;
  }
  Rng rng(seed ^ 0x9e3779b97f4a7c15ULL);
  for (int k = 0; k < 400; ++k) {
    double scale = std::pow(10.0, -12.0 + 10.0 * k / 400.0);
    std::vector<symbolic::Value> f2 = frame;
    for (size_t i = 0; i < vars.size(); ++i) {
      if (!vars[i]->type().is(ir::ScalarKind::Real)) continue;
      auto [lo, hi] = boxes[i];
      double& x = f2[size_t(vars[i]->slot())].s;
      double w = std::max(hi - lo, 1e-300);
      x = std::clamp(x + (2 * rng.uniform() - 1) * scale * w, lo, hi);
    }
    auto v2 = symbolic::evaluate(body, f2, loc);
    if (good(v2)) {
      out.replayed = true;
      out.frame = f2;
      out.value = show(v2);
      return out;
    }
  }
  return out;
}

RunReplay replayRun(const ir::Function& f, const std::vector<symbolic::Value>& inputs,
                    const std::unordered_map<std::string, double>& choices, ir::Expr body,
                    const SourceLoc* assertLoc, uint64_t seed) {
  RunReplay rr;
  Rng rng(seed);
  symbolic::RunOptions opt;
  opt.replay = &choices;
  auto res = symbolic::run(f, inputs, rng, opt);
  if (assertLoc) {
    if (res) {
      rr.message = "the run completes: the assert holds there";
      for (auto& c : res->trace.choices) rr.choices.push_back({c.address, c.value});
      return rr;
    }
    const SourceLoc& l = res.error().loc;
    rr.value = res.error().message;
    if (l.line == assertLoc->line && l.col == assertLoc->col) {
      rr.ok = rr.bodyFalse = true;
    } else {
      rr.message = "the run fails elsewhere: " + res.error().str();
    }
    for (auto& [a, x] : choices) rr.choices.push_back({a, x});
    std::sort(rr.choices.begin(), rr.choices.end());
    return rr;
  }
  if (!res) {
    rr.message = "the run fails: " + res.error().str();
    return rr;
  }
  for (auto& c : res->trace.choices) {
    rr.choices.push_back({c.address, c.value});
    if (!c.replayed) {
      rr.message = "choice '" + c.address + "' was not in the counterexample";
      return rr;
    }
  }
  if (!std::isfinite(res->trace.logPrior)) {
    rr.message = "a choice is outside its support";
    return rr;
  }
  auto v = symbolic::evaluate(body, res->frame, f.loc());
  rr.value = show(v);
  if (!v) {
    rr.message = rr.value;
    return rr;
  }
  rr.ok = true;
  rr.bodyFalse = v->s == 0;
  if (!rr.bodyFalse) rr.message = "the event is true there";
  return rr;
}

} // namespace chassis::verifier
