// Probability / expectation bounds: exact enumeration for finite discrete models, certified cell
// partitioning for continuous ones (see prob_bounds.h for the maths and the error allowances).
#include "verifier/prob_bounds.h"

#include "spec/rng.h"
#include "symbolic/distributions.h"
#include "symbolic/interp.h"
#include "symbolic/special.h"
#include "verifier/ir_encoder.h"

#include <chrono>
#include <cmath>
#include <queue>
#include <sstream>

namespace chassis::verifier {

namespace {

using Clock = std::chrono::steady_clock;

/// Whether [lo, hi] decides `value cmp bound`: +1 true, -1 false, 0 undecided.
int decide(double lo, double hi, ir::BinOp cmp, double bound) {
  switch (cmp) {
  case ir::BinOp::Le: return hi <= bound ? 1 : lo > bound ? -1 : 0;
  case ir::BinOp::Lt: return hi < bound ? 1 : lo >= bound ? -1 : 0;
  case ir::BinOp::Ge: return lo >= bound ? 1 : hi < bound ? -1 : 0;
  case ir::BinOp::Gt: return lo > bound ? 1 : hi <= bound ? -1 : 0;
  default: return 0;
  }
}

std::string num(double x) {
  std::ostringstream os;
  os.precision(6);
  os << x;
  return os.str();
}

// ---- Exact enumeration of a finite discrete model ----

struct Enumeration {
  double num = 0, den = 0; // sum of weights with event (times value for E), with given
  size_t traces = 0;
  std::string stop; // why enumeration is not applicable (empty when it completed)
};
constexpr size_t kMaxTraces = 200000;

void enumerate(const ir::Function& f, const ir::Property& p,
               std::unordered_map<std::string, double>& replay, Enumeration& en) {
  if (!en.stop.empty()) return;
  if (en.traces >= kMaxTraces) {
    en.stop = "more than " + std::to_string(kMaxTraces) + " traces to enumerate";
    return;
  }
  ++en.traces;
  Rng rng(0);
  symbolic::RunOptions opt;
  opt.replay = &replay;
  auto res = symbolic::run(f, {}, rng, opt);
  if (!res) {
    en.stop = "a run fails: " + res.error().str();
    return;
  }
  for (const symbolic::Choice& c : res->trace.choices) {
    if (c.replayed) continue;
    if (!signature(c.dist).discrete) {
      en.stop = "choice '" + c.address + "' is continuous";
      return;
    }
    symbolic::Support s = symbolic::support(c.dist, c.params);
    if (!std::isfinite(s.hi) || !std::isfinite(s.lo)) {
      en.stop = "choice '" + c.address + "' has an infinite support";
      return;
    }
    for (double v = s.lo; v <= s.hi && en.stop.empty(); v += 1) {
      replay[c.address] = v;
      enumerate(f, p, replay, en);
    }
    replay.erase(c.address);
    return;
  }
  double w = std::exp(res->trace.logJoint());
  if (w == 0) return;
  if (p.given) {
    auto g = symbolic::evaluate(p.given, res->frame, p.loc);
    if (!g) {
      en.stop = "the condition fails to evaluate: " + g.error().message;
      return;
    }
    if (g->s == 0) return;
  }
  auto e = symbolic::evaluate(p.body, res->frame, p.loc);
  if (!e) {
    en.stop = "the event fails to evaluate: " + e.error().message;
    return;
  }
  en.den += w;
  en.num += w * e->s; // an event is 0/1; an expectation's expression its value
}

// ---- Certified cells for continuous models ----

struct Dim {
  DistKind dist;
  std::vector<double> ps;
  double lo, hi; // the initial (support or quantile) box
  z3::expr var;
};

/// P(a <= X <= b) for one choice, in float64 (tail side chosen for accuracy).
double massOf(const Dim& d, double a, double b) {
  switch (d.dist) {
  case DistKind::Uniform: {
    double w = d.ps[1] - d.ps[0];
    return std::max(0.0, (std::min(b, d.ps[1]) - std::max(a, d.ps[0])) / w);
  }
  case DistKind::Normal: {
    double mu = d.ps[0], s = d.ps[1] * std::sqrt(2.0);
    if (a >= mu) return 0.5 * (std::erfc((a - mu) / s) - std::erfc((b - mu) / s));
    if (b <= mu) return 0.5 * (std::erfc((mu - b) / s) - std::erfc((mu - a) / s));
    return 1 - 0.5 * std::erfc((b - mu) / s) - 0.5 * std::erfc((mu - a) / s);
  }
  case DistKind::Exponential: {
    double l = d.ps[0];
    return std::exp(-l * std::max(a, 0.0)) - std::exp(-l * std::max(b, 0.0));
  }
  case DistKind::HalfNormal: {
    double s = d.ps[0] * std::sqrt(2.0);
    return std::erfc(std::max(a, 0.0) / s) - std::erfc(std::max(b, 0.0) / s);
  }
  default: return 0;
  }
}

struct Cell {
  std::vector<double> lo, hi;
  double mass;
  bool operator<(const Cell& o) const { return mass < o.mass; }
};

void cells(const ir::Program&, const ir::Property& p, const VerifyOptions& o, PropertyResult& r) {
  const ir::Function& f = *p.module;
  if (p.kind == ir::PropertyKind::Expectation) {
    r.reason = "E[...] of a model with continuous choices is not supported";
    return;
  }
  if (f.hasWeight() || p.given) {
    r.reason = "posterior-conditioned probability of a continuous model is not supported";
    return;
  }
  z3::context c;
  IrEncoder enc(c);
  auto deadline = Clock::now() + std::chrono::duration<double>(o.timeoutSec);
  Status st = IrEncoder::guard([&]() -> Status {
    auto ex = enc.execute(f, {});
    if (!ex) return ex.error();
    std::vector<Dim> dims;
    for (const SymChoice& ch : enc.choices()) {
      if (!ch.constParams)
        return Error("choice '" + ch.address + "' has parameters that depend on other values");
      Dim d{ch.dist, ch.constValues, 0, 0, ch.var};
      switch (ch.dist) {
      case DistKind::Uniform: d.lo = d.ps[0], d.hi = d.ps[1]; break;
      case DistKind::Normal: d.lo = d.ps[0] - 12 * d.ps[1], d.hi = d.ps[0] + 12 * d.ps[1]; break;
      case DistKind::Exponential: d.lo = 0, d.hi = 75 / d.ps[0]; break;
      case DistKind::HalfNormal: d.lo = 0, d.hi = 12 * d.ps[0]; break;
      default:
        return Error("choice '" + ch.address + "': " + std::string(signature(ch.dist).name) +
                     " is not supported by the cell method");
      }
      dims.push_back(d);
    }
    for (auto& [v, val] : ex->vars) enc.bind(v, val);
    auto ev = enc.encode(p.body);
    if (!ev) return ev.error();
    z3::expr event = ev->e[0];
    z3::solver s(c);
    for (const z3::expr& a : enc.assumptions()) s.add(a);
    auto cellMass = [&](const Cell& cl) {
      double m = 1;
      for (size_t i = 0; i < dims.size(); ++i) m *= massOf(dims[i], cl.lo[i], cl.hi[i]);
      return m;
    };
    std::priority_queue<Cell> q;
    Cell root;
    for (const Dim& d : dims) {
      root.lo.push_back(d.lo);
      root.hi.push_back(d.hi);
    }
    root.mass = cellMass(root);
    q.push(root);
    const double slack = 1e-9;
    double inLo = 0, outLo = 0; // masses proved inside / outside, rounded down
    int queries = 0, decided = 0;
    auto interval = [&]() {
      return std::pair{inLo, std::min(1.0, 1 - outLo)};
    };
    // Is (cell /\ phi) unsatisfiable? 1 yes, 0 sat, -1 unknown.
    auto unsatIn = [&](const Cell& cl, const z3::expr& phi) {
      double left = std::chrono::duration<double>(deadline - Clock::now()).count();
      z3::params prm(c);
      prm.set("timeout", unsigned(std::clamp(left, 0.001, 5.0) * 1000));
      s.set(prm);
      s.push();
      for (size_t i = 0; i < dims.size(); ++i) {
        s.add(dims[i].var >= enc.realNumeral(cl.lo[i]));
        s.add(dims[i].var <= enc.realNumeral(cl.hi[i]));
      }
      s.add(phi);
      if (o.emitSmt2 && r.smt2.size() < 4) r.smt2.push_back(s.to_smt2());
      auto res = s.check();
      s.pop();
      ++queries;
      return res == z3::unsat ? 1 : res == z3::sat ? 0 : -1;
    };
    while (!q.empty() && queries < o.maxCells && Clock::now() < deadline) {
      auto [lo, hi] = interval();
      if (decide(lo, hi, p.cmp, p.bound) != 0) break;
      Cell cl = q.top();
      q.pop();
      if (unsatIn(cl, event) == 1) {
        outLo += cl.mass * (1 - slack);
        ++decided;
        continue;
      }
      if (unsatIn(cl, !event) == 1) {
        inLo += cl.mass * (1 - slack);
        ++decided;
        continue;
      }
      // Split along the widest coordinate, relative to the initial box.
      size_t k = 0;
      double best = -1;
      for (size_t i = 0; i < dims.size(); ++i) {
        double rel = (cl.hi[i] - cl.lo[i]) / (dims[i].hi - dims[i].lo);
        if (rel > best) best = rel, k = i;
      }
      if (dims.empty()) break;
      double mid = 0.5 * (cl.lo[k] + cl.hi[k]);
      Cell a = cl, b = cl;
      a.hi[k] = mid;
      b.lo[k] = mid;
      a.mass = cellMass(a);
      b.mass = cellMass(b);
      q.push(a);
      q.push(b);
    }
    auto [lo, hi] = interval();
    r.isInterval = true;
    r.lo = lo;
    r.hi = hi;
    r.method = "cells: " + std::to_string(decided) + " decided, " + std::to_string(q.size()) +
               " undecided, " + std::to_string(queries) + " Z3 queries";
    int d = decide(lo, hi, p.cmp, p.bound);
    r.verdict = d > 0 ? PropVerdict::Holds : d < 0 ? PropVerdict::Violated : PropVerdict::Unknown;
    if (d == 0) r.reason = "interval does not decide the bound (cell budget or time spent)";
    return Status::ok();
  });
  if (!st) r.reason = st.error().message;
}

} // namespace

void checkProbability(const ir::Program& program, const ir::Property& p, const VerifyOptions& o,
                      PropertyResult& r) {
  r.verdict = PropVerdict::Unknown;
  const ir::Function& f = *p.module;
  if (!f.inputs().empty()) {
    r.reason = "P/E over a module with inputs is not supported";
    return;
  }
  Enumeration en;
  std::unordered_map<std::string, double> replay;
  enumerate(f, p, replay, en);
  if (en.stop.empty()) {
    if (en.den == 0) {
      r.reason = "the conditioning event has probability zero";
      return;
    }
    double v = en.num / en.den;
    double err = std::fabs(v) * double(en.traces + 2) * 0x1p-52 * 2;
    r.isInterval = true;
    r.lo = v - err;
    r.hi = v + err;
    if (p.kind == ir::PropertyKind::Probability) {
      r.lo = std::max(0.0, r.lo);
      r.hi = std::min(1.0, r.hi);
    }
    r.method = "exact enumeration of " + std::to_string(en.traces) + " traces";
    int d = decide(r.lo, r.hi, p.cmp, p.bound);
    r.verdict = d > 0 ? PropVerdict::Holds : d < 0 ? PropVerdict::Violated : PropVerdict::Unknown;
    if (d == 0) r.reason = "the value " + num(v) + " is the bound, within rounding";
    return;
  }
  cells(program, p, o, r);
  if (r.verdict == PropVerdict::Unknown && !r.isInterval && r.reason.empty()) r.reason = en.stop;
}

} // namespace chassis::verifier
