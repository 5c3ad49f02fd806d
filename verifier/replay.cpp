// Counterexample replay in float64 through the interpreter (see replay.h).
#include "verifier/replay.h"

#include "spec/rng.h"
#include "symbolic/special.h"
#include "verifier/z3_limits.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>

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
  for (const z3::expr& e : v.e)
    xs.push_back(numeralToDouble(m.eval(e, true)));
  if (t.isArray()) return symbolic::Value::array(std::move(xs));
  return symbolic::Value::scalar(xs.empty() ? 0 : xs[0]);
}

namespace {
std::string show(const Expected<symbolic::Value>& v) {
  if (!v) return "error: " + v.error().message;
  return v->s != 0 ? "true" : "false";
}
} // namespace

void fixAtPoint(IrEncoder& enc, const SymValue& v, const symbolic::Value& x,
                std::vector<z3::expr>& out) {
  z3::context& c = enc.ctx();
  for (size_t i = 0; i < v.e.size(); ++i) {
    double d = x.a.empty() ? x.s : (i < x.a.size() ? x.a[i] : 0.0);
    const z3::expr& t = v.e[i];
    if (t.is_bool())
      out.push_back(t == c.bool_val(d != 0));
    else if (t.is_int())
      out.push_back(t == c.int_val(int64_t(d)));
    else
      out.push_back(t == enc.realNumeral(d));
  }
}

void fixChoices(IrEncoder& enc, const std::unordered_map<std::string, double>& choices,
                std::vector<z3::expr>& out) {
  for (const SymChoice& ch : enc.choices()) {
    auto it = choices.find(ch.address);
    if (it == choices.end()) continue;
    SymValue v;
    v.e.push_back(ch.var);
    fixAtPoint(enc, v, symbolic::Value::scalar(it->second), out);
  }
}

bool impossibleAt(IrEncoder& enc, const std::vector<z3::expr>& fixes, const z3::expr& goal,
                  double timeoutSec) {
  z3::context& c = enc.ctx();
  z3::solver s(c);
  applyQueryLimits(s, c, timeoutSec);
  for (const z3::expr& a : enc.assumptions())
    s.add(a);
  for (const z3::expr& f : fixes)
    s.add(f);
  s.add(goal);
  Z3StopGuard stopGuard(c);
  return s.check() == z3::unsat;
}

struct RealPointCheck::Impl {
  z3::context c;
  IrEncoder enc{c};
  std::vector<const ir::Var*> vars;
  std::vector<SymValue> vals;
  std::optional<z3::expr> body;
  std::chrono::steady_clock::time_point deadline; // for all the checks together
};

RealPointCheck::RealPointCheck(ir::Expr body, const std::vector<const ir::Var*>& vars,
                               const std::vector<std::pair<double, double>>& boxes,
                               double timeoutSec)
    : impl_(std::make_unique<Impl>()) {
  impl_->vars = vars;
  impl_->deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(int64_t(std::max(0.001, timeoutSec) * 1000));
  Status st = IrEncoder::guard([&]() -> Status {
    for (size_t i = 0; i < vars.size(); ++i) {
      auto [lo, hi] = i < boxes.size() ? boxes[i] : std::pair<double, double>{-INFINITY, INFINITY};
      SymValue v = impl_->enc.freshVar("point!" + vars[i]->name(), vars[i]->type(), lo, hi);
      impl_->vals.push_back(v);
      impl_->enc.bind(vars[i], v);
    }
    auto b = impl_->enc.encode(body);
    if (!b) return b.error();
    impl_->body = b->e[0];
    return Status::ok();
  });
  if (!st) error_ = st.error().message;
}

RealPointCheck::~RealPointCheck() = default;

bool RealPointCheck::proves(const std::vector<symbolic::Value>& frame, bool value) {
  if (!impl_->body) return false;
  double left =
      std::chrono::duration<double>(impl_->deadline - std::chrono::steady_clock::now()).count();
  if (left <= 0) {
    error_ = "its time budget is spent";
    return false;
  }
  bool proved = false;
  Status st = IrEncoder::guard([&]() -> Status {
    std::vector<z3::expr> fixes;
    for (size_t i = 0; i < impl_->vars.size(); ++i)
      fixAtPoint(impl_->enc, impl_->vals[i], frame[size_t(impl_->vars[i]->slot())], fixes);
    proved = impossibleAt(impl_->enc, fixes, value ? !*impl_->body : *impl_->body, left);
    return Status::ok();
  });
  if (!st) error_ = st.error().message;
  return proved && st;
}

ReplayOutcome replayBody(ir::Expr body, std::vector<symbolic::Value> frame,
                         const std::vector<const ir::Var*>& vars,
                         const std::vector<std::pair<double, double>>& boxes, bool wantFalse,
                         const SourceLoc& loc, uint64_t seed, RealPointCheck* real) {
  ReplayOutcome out;
  auto good = [&](const Expected<symbolic::Value>& v) { return v && ((v->s == 0) == wantFalse); };
  auto v = symbolic::evaluate(body, frame, loc);
  out.value = out.modelValue = show(v);
  out.frame = out.modelFrame = frame;
  // A point where float64 evaluation fails (a division by zero, log of 0) is where the property
  // is undefined or rounding broke it: never a proved counterexample.
  bool modelProved = real && v && real->proves(frame, !wantFalse);
  if (good(v) && (!real || modelProved)) {
    out.replayed = true;
    out.realProved = modelProved;
    return out;
  }
  if (good(v)) out.float64Only = frame;
  int realChecks = 16; // Z3 calls for nearby points
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
    if (!good(v2)) continue;
    if (real) {
      if (realChecks == 0) continue;
      --realChecks;
      if (!real->proves(f2, !wantFalse)) {
        if (out.float64Only.empty()) out.float64Only = f2;
        continue;
      }
      out.realProved = true;
    }
    out.replayed = true;
    out.frame = f2;
    out.value = show(v2);
    return out;
  }
  // No nearby point where both agree: Z3's point, proved over the reals or not.
  out.realProved = modelProved;
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
      for (auto& c : res->trace.choices)
        rr.choices.push_back({c.address, c.value});
      return rr;
    }
    const SourceLoc& l = res.error().loc;
    rr.value = res.error().message;
    if (l.line == assertLoc->line && l.col == assertLoc->col) {
      rr.ok = rr.bodyFalse = true;
    } else {
      rr.message = "the run fails elsewhere: " + res.error().str();
    }
    for (auto& [a, x] : choices)
      rr.choices.push_back({a, x});
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

namespace {

/// The least slack min_r (d_r - C_r y) at x (float64), and the gradient of that row's C_r y with
/// respect to x in x's linear region.
double leastSlack(const neural::AffineNet& net, const CaseSpec& cs, const Eigen::VectorXd& x,
                  Eigen::RowVectorXd* grad) {
  Eigen::VectorXd y = x;
  Eigen::MatrixXd J = Eigen::MatrixXd::Identity(x.size(), x.size());
  for (const neural::AffineLayer& L : net.layers) {
    Eigen::VectorXd z = L.W * y + L.b;
    J = L.W * J;
    if (L.relu)
      for (Eigen::Index i = 0; i < z.size(); ++i)
        if (!(z[i] > 0)) {
          z[i] = 0;
          J.row(i).setZero();
        }
    y = std::move(z);
  }
  double best = INFINITY;
  Eigen::Index row = -1;
  for (Eigen::Index r = 0; r < cs.C.rows(); ++r) {
    double slack = cs.d[r] - cs.C.row(r).dot(y);
    if (slack < best) best = slack, row = r;
  }
  if (grad) *grad = row >= 0 ? Eigen::RowVectorXd(cs.C.row(row) * J) : Eigen::RowVectorXd();
  return best;
}

} // namespace

std::optional<Eigen::VectorXd>
deepenCounterexample(const neural::AffineNet& net, const CaseSpec& cs, const Eigen::VectorXd& x,
                     const std::function<bool(const Eigen::VectorXd&)>& accept) {
  if (cs.C.rows() == 0 || x.size() != cs.box.lo.size()) return std::nullopt;
  Eigen::VectorXd width = cs.box.hi - cs.box.lo;
  Eigen::VectorXd from = x;
  std::optional<Eigen::VectorXd> bestAccepted;
  double bestAcceptedSlack = -INFINITY;
  for (int round = 0; round < 3; ++round) {
    Eigen::RowVectorXd g;
    leastSlack(net, cs, from, &g);
    if (g.size() != x.size()) break;
    // Decreasing C_r y increases the slack: move against the gradient, per unit of box width.
    Eigen::VectorXd dir = -(g.transpose().array() * width.array()).matrix();
    double norm = dir.cwiseAbs().maxCoeff();
    if (!(norm > 0) || !std::isfinite(norm)) break;
    dir /= norm;
    Eigen::VectorXd deepest = from;
    double deepestSlack = leastSlack(net, cs, from, nullptr);
    for (double t = 1e-12; t <= 0.11; t *= 10) {
      Eigen::VectorXd c = (from + t * (dir.array() * width.array()).matrix())
                              .cwiseMax(cs.box.lo)
                              .cwiseMin(cs.box.hi);
      double slack = leastSlack(net, cs, c, nullptr);
      if (!std::isfinite(slack)) continue;
      if (slack > deepestSlack) deepestSlack = slack, deepest = c;
      if (slack > bestAcceptedSlack && slack >= 0 && accept(c))
        bestAcceptedSlack = slack, bestAccepted = c;
    }
    if (deepest == from) break; // no step gains slack: a local maximum of the least slack
    from = deepest;
  }
  return bestAccepted;
}

} // namespace chassis::verifier
