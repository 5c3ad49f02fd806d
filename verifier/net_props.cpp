// Network-output properties through the network engine (see net_props.h for what is recognised
// and why the translation is sound).
#include "verifier/net_props.h"

#include "symbolic/interp.h"
#include "verifier/net_chain.h"
#include "verifier/network_verifier.h"
#include "verifier/replay.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

namespace chassis::verifier {

namespace {

constexpr size_t kMaxCases = 256;

/// coef . y + k, over the network's outputs.
struct Lin {
  std::vector<double> coef;
  double k = 0;
};

/// a + b when exact in float64 (TwoSum error zero, finite).
std::optional<double> exactAdd(double a, double b) {
  double s = a + b;
  if (!std::isfinite(s)) return std::nullopt;
  double bb = s - a;
  double err = (a - (s - bb)) + (b - bb);
  if (err != 0) return std::nullopt;
  return s;
}
/// a * b when exact in float64 (FMA residual zero, finite, no underflow loss).
std::optional<double> exactMul(double a, double b) {
  double p = a * b;
  if (!std::isfinite(p)) return std::nullopt;
  if (std::fma(a, b, -p) != 0) return std::nullopt;
  if (p == 0 && a != 0 && b != 0) return std::nullopt;
  return p;
}

class Translator {
public:
  /// `c`: the body's network call (the only one accepted); its chain must exist.
  Translator(const ir::Property& p, const ir::Call& c, NetChain chain)
      : prop_(p), call_(&c), chain_(std::move(chain)) {}

  /// The unsafe set (the negated body) in DNF, or nullopt when the body is outside the subset.
  std::optional<std::vector<std::vector<Lin>>> unsafe() { return dnf(prop_.body, true); }

  bool relaxedStrict() const { return relaxedStrict_; }

private:
  using Dnf = std::vector<std::vector<Lin>>;

  /// DNF of e (negated when `neg`): a list of conjunctions of atoms coef.y + k <= 0.
  std::optional<Dnf> dnf(ir::Expr e, bool neg) {
    if (auto* c = e->as<ir::Const>()) {
      if (!e->type().is(ir::ScalarKind::Bool)) return std::nullopt;
      bool v = c->boolValue() != neg;
      return v ? Dnf{{}} : Dnf{};
    }
    if (auto* u = e->as<ir::Unary>()) {
      if (u->op() != ir::UnOp::Not) return std::nullopt;
      return dnf(u->arg(), !neg);
    }
    auto* b = e->as<ir::Binary>();
    if (!b) return std::nullopt;
    switch (b->op()) {
    case ir::BinOp::And:
    case ir::BinOp::Or:
    case ir::BinOp::Implies: {
      bool lneg = b->op() == ir::BinOp::Implies ? !neg : neg;
      auto l = dnf(b->lhs(), lneg);
      if (!l) return l;
      auto r = dnf(b->rhs(), neg);
      if (!r) return r;
      bool disj = (b->op() == ir::BinOp::And) == neg; // And negated, Or, Implies: a union
      if (disj) {
        l->insert(l->end(), r->begin(), r->end());
        if (l->size() > kMaxCases) return std::nullopt;
        return l;
      }
      if (l->size() * r->size() > kMaxCases) return std::nullopt;
      Dnf out;
      for (const auto& x : *l)
        for (const auto& y : *r) {
          std::vector<Lin> c = x;
          c.insert(c.end(), y.begin(), y.end());
          out.push_back(std::move(c));
        }
      return out;
    }
    case ir::BinOp::Lt:
    case ir::BinOp::Le:
    case ir::BinOp::Gt:
    case ir::BinOp::Ge: {
      if (!b->lhs()->type().is(ir::ScalarKind::Real)) return std::nullopt;
      auto l = lin(b->lhs());
      if (!l) return std::nullopt;
      auto r = lin(b->rhs());
      if (!r) return std::nullopt;
      // d = l - r; the atom (after negation) as  d (<= or <) 0  or  -d (<= or <) 0.
      bool lessForm = b->op() == ir::BinOp::Lt || b->op() == ir::BinOp::Le; // body: d < 0 / <= 0
      bool strictBody = b->op() == ir::BinOp::Lt || b->op() == ir::BinOp::Gt;
      // Negating  d <= 0  gives  -d < 0 (strict); negating  d < 0  gives  -d <= 0.
      bool flip = lessForm == neg;       // the unsafe atom is over -d
      bool strict = strictBody != neg;   // the unsafe atom is strict
      if (strict) relaxedStrict_ = true; // replaced by its closure
      auto d = sub(*l, *r);
      if (!d) return std::nullopt;
      if (flip) {
        for (double& c : d->coef)
          c = -c;
        d->k = -d->k;
      }
      return Dnf{{*d}};
    }
    default:
      return std::nullopt;
    }
  }

  std::optional<Lin> sub(const Lin& a, const Lin& b) {
    Lin r = a;
    for (size_t i = 0; i < r.coef.size(); ++i) {
      auto v = exactAdd(a.coef[i], -b.coef[i]);
      if (!v) return std::nullopt;
      r.coef[i] = *v;
    }
    auto k = exactAdd(a.k, -b.k);
    if (!k) return std::nullopt;
    r.k = *k;
    return r;
  }

  bool isConst(const Lin& l) const {
    return std::all_of(l.coef.begin(), l.coef.end(), [](double c) { return c == 0; });
  }

  std::optional<Lin> lin(ir::Expr e) {
    if (auto* c = e->as<ir::Const>()) {
      Lin l = zero();
      if (e->type().is(ir::ScalarKind::Real))
        l.k = c->realValue();
      else if (e->type().is(ir::ScalarKind::Int))
        l.k = double(c->intValue());
      else
        return std::nullopt;
      return l;
    }
    if (auto* u = e->as<ir::Unary>()) {
      if (u->op() == ir::UnOp::ToReal) {
        if (!u->arg()->is<ir::Const>()) return std::nullopt;
        return lin(u->arg());
      }
      if (u->op() != ir::UnOp::Neg) return std::nullopt;
      auto a = lin(u->arg());
      if (!a) return a;
      for (double& c : a->coef)
        c = -c;
      a->k = -a->k;
      return a;
    }
    if (auto* b = e->as<ir::Binary>()) {
      if (b->op() != ir::BinOp::Add && b->op() != ir::BinOp::Sub && b->op() != ir::BinOp::Mul)
        return std::nullopt;
      auto l = lin(b->lhs());
      if (!l) return l;
      auto r = lin(b->rhs());
      if (!r) return r;
      if (b->op() == ir::BinOp::Sub) return sub(*l, *r);
      if (b->op() == ir::BinOp::Add) {
        Lin neg = *r;
        for (double& c : neg.coef)
          c = -c;
        neg.k = -neg.k;
        return sub(*l, neg);
      }
      // Mul: one side constant.
      if (!isConst(*l) && !isConst(*r)) return std::nullopt;
      const Lin& v = isConst(*l) ? *r : *l;
      double s = isConst(*l) ? l->k : r->k;
      Lin out = v;
      for (double& c : out.coef) {
        auto p = exactMul(c, s);
        if (!p) return std::nullopt;
        c = *p;
      }
      auto pk = exactMul(v.k, s);
      if (!pk) return std::nullopt;
      out.k = *pk;
      return out;
    }
    // A network output scalar: call.out[c] or call.out (a scalar output).
    int elem = 0;
    ir::Expr base = e;
    if (auto* ix = e->as<ir::Index>()) {
      auto* c = ix->index()->as<ir::Const>();
      if (!c || !ix->index()->type().is(ir::ScalarKind::Int)) return std::nullopt;
      elem = int(c->intValue());
      base = ix->array();
    } else if (!e->type().is(ir::ScalarKind::Real)) {
      return std::nullopt;
    }
    auto* cr = base->as<ir::CallResult>();
    if (!cr || !useCall(cr->call())) return std::nullopt;
    const auto& idx = chain_.outIndex[size_t(cr->index())];
    if (elem < 0 || size_t(elem) >= idx.size()) return std::nullopt;
    if (base == e && !cr->type().is(ir::ScalarKind::Real)) return std::nullopt;
    Lin l = zero();
    l.coef[size_t(idx[size_t(elem)])] = 1;
    return l;
  }

  /// Only the one network call of the body is accepted.
  bool useCall(const ir::Call& c) const { return call_ == &c; }

  Lin zero() const {
    Lin l;
    l.coef.assign(size_t(chain_.net.outputSize()), 0.0);
    return l;
  }

  const ir::Property& prop_;
  const ir::Call* call_;
  NetChain chain_;
  bool relaxedStrict_ = false;
};

NetworkEngineRunner& runnerSlot() {
  static NetworkEngineRunner runner;
  return runner;
}

/// The body's first call (pre-order), the one the translator accepts.
const ir::Call* firstCall(ir::Expr e) {
  if (auto* c = e->as<ir::Call>()) return c;
  for (ir::Expr op : e->operands())
    if (auto* c = firstCall(op)) return c;
  return nullptr;
}

} // namespace

NetworkEngineRunner setNetworkEngineRunner(NetworkEngineRunner runner) {
  NetworkEngineRunner old = std::move(runnerSlot());
  runnerSlot() = std::move(runner);
  return old;
}

std::optional<NetworkPropertyQuery> networkQueryOf(const ir::Property& prop,
                                                   std::string* whyNot) {
  if (prop.kind != ir::PropertyKind::Forall || prop.vars.empty() || !prop.body)
    return std::nullopt;
  for (const ir::QuantVar& q : prop.vars)
    if (q.exists || !q.var->type().is(ir::ScalarKind::Real) || !(q.lo <= q.hi) ||
        !std::isfinite(q.lo) || !std::isfinite(q.hi))
      return std::nullopt;
  const ir::Call* first = firstCall(prop.body);
  if (!first || first->callee().kind() != ir::FunctionKind::Network) return std::nullopt;

  auto chain = extractChain(first->callee());
  if (!chain) {
    if (whyNot) *whyNot = chain.error().str();
    return std::nullopt;
  }
  const NetChain& ch = *chain;
  const ir::Call& call = *first;
  Translator tr2(prop, call, ch);
  auto cases = tr2.unsafe();
  if (!cases) return std::nullopt;
  int nIn = ch.net.inputSize, nOut = ch.net.outputSize();

  // The input box, and which quantified variable feeds each network input.
  std::vector<int> varOf(static_cast<size_t>(nIn), -1);
  std::vector<double> lo(static_cast<size_t>(nIn)), hi(static_cast<size_t>(nIn));
  std::vector<bool> used(prop.vars.size(), false);
  for (int j = 0; j < nIn; ++j) {
    ir::Expr arg = call.args()[size_t(ch.inParam[size_t(j)])];
    if (ch.inElem[size_t(j)] >= 0) {
      auto* lit = arg->as<ir::ArrayLit>();
      if (!lit || size_t(ch.inElem[size_t(j)]) >= lit->elements().size()) return std::nullopt;
      arg = lit->elements()[size_t(ch.inElem[size_t(j)])];
    }
    double l, h;
    if (auto* c = arg->as<ir::Const>()) {
      if (!arg->type().is(ir::ScalarKind::Real)) return std::nullopt;
      l = h = c->realValue();
    } else {
      int qi = -1;
      for (size_t i = 0; i < prop.vars.size(); ++i)
        if (prop.vars[i].var == arg) qi = int(i);
      if (qi < 0 || used[size_t(qi)]) return std::nullopt;
      used[size_t(qi)] = true;
      varOf[size_t(j)] = qi;
      l = prop.vars[size_t(qi)].lo;
      h = prop.vars[size_t(qi)].hi;
    }
    // The network's input clamp maps the box [l, h] onto [clamp(l), clamp(h)].
    double cl = ch.clampLo[size_t(j)], chh = ch.clampHi[size_t(j)];
    lo[size_t(j)] = std::min(std::max(l, cl), chh);
    hi[size_t(j)] = std::min(std::max(h, cl), chh);
  }

  NetworkPropertyQuery out;
  out.net = std::move(chain->net);
  out.varOf = std::move(varOf);
  out.relaxedStrict = tr2.relaxedStrict();
  NetworkQuery& q = out.query;
  q.numInputs = nIn;
  q.numOutputs = nOut;
  q.origin = prop.loc;
  for (const auto& conj : *cases) { // each atom coef.y + k <= 0 is the row coef.y <= -k
    CaseSpec c;
    c.box.lo = Eigen::Map<const Eigen::VectorXd>(lo.data(), nIn);
    c.box.hi = Eigen::Map<const Eigen::VectorXd>(hi.data(), nIn);
    const auto rows = static_cast<Eigen::Index>(conj.size());
    c.C = Eigen::MatrixXd::Zero(rows, nOut);
    c.d = Eigen::VectorXd::Zero(rows);
    for (Eigen::Index i = 0; i < rows; ++i) {
      const Lin& a = conj[size_t(i)];
      for (int j = 0; j < nOut; ++j)
        c.C(i, j) = a.coef[size_t(j)];
      c.d[i] = -a.k;
    }
    q.cases.push_back(std::move(c));
  }
  return out;
}

std::optional<PropertyResult> verifyNetworkProperty(const ir::Program& program,
                                                    const ir::Property& prop,
                                                    const VerifyOptions& opts,
                                                    std::string* whyNot) {
  auto t0 = std::chrono::steady_clock::now();
  if (opts.emitSmt2) return std::nullopt;
  auto npq = networkQueryOf(prop, whyNot);
  if (!npq) return std::nullopt;
  const NetworkQuery& query = npq->query;
  const std::vector<int>& varOf = npq->varOf;
  const int nIn = query.numInputs;

  PropertyResult r;
  r.name = prop.name;
  r.loc = prop.loc;
  r.method = "network engine (bound propagation, branch and bound)";
  auto finish = [&]() {
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  };
  // No case: the negated body is false, the body holds whatever the network does.
  if (query.cases.empty()) {
    r.verdict = Verdict::Holds;
    return finish();
  }
  NetVerifyOptions o;
  o.timeoutSec = opts.timeoutSec > 0 ? opts.timeoutSec : 60.0;
  o.seed = opts.seed == 0 ? 1 : opts.seed;
  auto res = runnerSlot() ? runnerSlot()(npq->net, query, o) : verifyNetwork(npq->net, query, o);
  if (!res) return std::nullopt; // a size mismatch would be a bug here: let the Z3 path answer
  switch (res->verdict) {
  case Verdict::Holds:
    r.verdict = Verdict::Holds;
    return finish();
  case Verdict::Timeout:
    r.verdict = Verdict::Unknown;
    r.reason = "timeout (network engine" + (res->reason.empty() ? "" : ": " + res->reason) + ")";
    return finish();
  case Verdict::Unknown:
  case Verdict::Internal:
    r.verdict = Verdict::Unknown;
    r.reason = "network engine: " + (res->reason.empty() ? "undecided" : res->reason);
    return finish();
  case Verdict::Violated:
    break;
  }
  // A counterexample: back to the quantified variables, replayed on the body in float64.
  std::vector<symbolic::Value> frame(size_t(prop.numSlots));
  for (const ir::QuantVar& q : prop.vars)
    frame[size_t(q.var->slot())].s = q.lo;
  for (int j = 0; j < nIn; ++j) {
    if (varOf[size_t(j)] < 0) continue;
    const ir::QuantVar& q = prop.vars[size_t(varOf[size_t(j)])];
    double v = res->x[j];
    // Inside the variable's box, v itself (the clamp leaves it); outside, the box end the clamp
    // maps onto v.
    frame[size_t(q.var->slot())].s = std::clamp(v, q.lo, q.hi);
  }
  std::vector<const ir::Var*> qv;
  std::vector<std::pair<double, double>> boxes;
  for (const ir::QuantVar& q : prop.vars) {
    qv.push_back(q.var);
    boxes.push_back({q.lo, q.hi});
  }
  // The engine's point is a float64 point; a `violated` needs it proved false over the reals
  // too (LANGUAGE.md §8, "Counterexamples").
  RealPointCheck real(prop.body, qv, boxes, std::min(opts.timeoutSec, 10.0));
  ReplayOutcome out = replayBody(prop.body, frame, qv, boxes, true, prop.loc, opts.seed, &real);
  if (!out.realProved) {
    // A point that only float64 makes false, or on the boundary of a strict comparison that the
    // engine relaxed to its closure: the engine cannot tell; the exact Z3 path decides (and
    // applies the same rule to its own counterexample).
    return std::nullopt;
  }
  for (const ir::QuantVar& q : prop.vars)
    r.counterexample.push_back(
        {q.var->name(),
         symbolic::formatValue(out.frame[size_t(q.var->slot())], q.var->type(), program.ctx())});
  r.valueAtCounterexample = out.value;
  r.verdict = Verdict::Violated;
  if (!out.replayed)
    r.reason = "floating-point note: over the reals the property is false here, while float64 "
               "evaluates it " +
               out.value + " (rounding)";
  return finish();
}

} // namespace chassis::verifier
