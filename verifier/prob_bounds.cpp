// Probability / expectation bounds: exact variable elimination (or bounded enumeration) for
// finite discrete models, certified cell partitioning for continuous ones, and, only when asked,
// a Monte Carlo estimate with a Clopper-Pearson interval (see prob_bounds.h for the maths and
// the error allowances).
#include "verifier/prob_bounds.h"

#include "spec/rng.h"
#include "symbolic/discrete_model.h"
#include "symbolic/dist_traits.h"
#include "symbolic/distributions.h"
#include "symbolic/interp.h"
#include "symbolic/special.h"
#include "verifier/ir_encoder.h"
#include "verifier/z3_limits.h"

#include <chrono>
#include <cmath>
#include <functional>
#include <queue>
#include <set>
#include <sstream>
#include <unordered_set>

namespace chassis::verifier {

namespace {

using Clock = std::chrono::steady_clock;

/// Whether [lo, hi] decides `value cmp bound`: +1 true, -1 false, 0 undecided.
int decide(double lo, double hi, ir::BinOp cmp, double bound) {
  switch (cmp) {
  case ir::BinOp::Le:
    return hi <= bound ? 1 : lo > bound ? -1 : 0;
  case ir::BinOp::Lt:
    return hi < bound ? 1 : lo >= bound ? -1 : 0;
  case ir::BinOp::Ge:
    return lo >= bound ? 1 : hi < bound ? -1 : 0;
  case ir::BinOp::Gt:
    return lo > bound ? 1 : hi <= bound ? -1 : 0;
  default:
    return 0;
  }
}

std::string num(double x) {
  std::ostringstream os;
  os.precision(6);
  os << x;
  return os.str();
}

// ---- What a model reaches: called functions, weighting statements ----

struct Reach {
  bool rangedCall = false; // some called function declares an input range
  bool weights = false;    // some observe or factor statement
};

void reach(const ir::Function& f, std::unordered_set<const ir::Function*>& seen, Reach& r,
           bool top) {
  if (!seen.insert(&f).second) return;
  if (!top)
    for (const ir::Param& prm : f.inputs())
      r.rangedCall = r.rangedCall || prm.range.has_value();
  std::unordered_set<ir::Expr> visited;
  std::function<void(ir::Expr)> ex = [&](ir::Expr e) {
    if (!e || !visited.insert(e).second) return;
    if (auto* c = e->as<ir::Call>()) reach(c->callee(), seen, r, false);
    for (ir::Expr o : e->operands())
      ex(o);
  };
  ir::forEachStmt(f.body(), [&](ir::Stmt s) {
    if (s->kind() == ir::StmtKind::Observe || s->kind() == ir::StmtKind::Factor) r.weights = true;
    if (auto* cs = s->as<ir::CallStmt>()) reach(*cs->callee, seen, r, false);
    ir::forEachExpr(s, ex);
  });
}

Reach reachOf(const ir::Function& f) {
  std::unordered_set<const ir::Function*> seen;
  Reach r;
  reach(f, seen, r, true);
  return r;
}

/// Whether no run of f (inputless) can violate the declared input range of a module it calls:
/// Z3 proves unsat(supports /\ definitions /\ !and(conditions)) over f's symbolic execution.
/// Then the factor graph, which does not check those ranges, means what a run means.
bool rangesAlwaysHold(const ir::Function& f, const VerifyOptions& o, PropertyResult& r) {
  double timeoutSec = o.timeoutSec;
  z3::context c;
  IrEncoder enc(c);
  bool proved = false;
  Status st = IrEncoder::guard([&]() -> Status {
    auto ex = enc.execute(f, {});
    if (!ex) return ex.error();
    z3::solver s(c);
    applyQueryLimits(s, c, std::clamp(timeoutSec, 0.001, 10.0));
    for (const SymChoice& ch : enc.choices())
      s.add(ch.supportCond);
    for (const z3::expr& d : enc.definitions())
      s.add(d);
    z3::expr_vector conds(c);
    for (const z3::expr& a : enc.conditions())
      conds.push_back(a);
    s.add(!z3::mk_and(conds));
    if (o.emitSmt2) r.smt2.push_back(s.to_smt2());
    z3::check_result res;
    {
      Z3StopGuard stopGuard(c);
      res = s.check();
    }
    if (o.emitSmt2)
      r.smt2Answers.push_back(res == z3::sat ? "sat" : res == z3::unsat ? "unsat" : "unknown");
    proved = res == z3::unsat;
    return Status::ok();
  });
  return st && proved;
}

// ---- Exact: variable elimination over the model's factor graph ----

struct Exact {
  bool done = false;
  double value = 0, err = 0; // the value and its absolute error allowance
  std::string method, stop;  // stop: why this method does not apply
};

/// The outputs of f read by e (by output index); false if e reads another variable.
bool outputsRead(ir::Expr e, const ir::Function& f, std::set<size_t>& used) {
  std::unordered_set<ir::Expr> visited;
  bool ok = true;
  std::function<void(ir::Expr)> walk = [&](ir::Expr x) {
    if (!x || !visited.insert(x).second) return;
    if (x->is<ir::Var>()) {
      bool found = false;
      for (size_t i = 0; i < f.outputs().size(); ++i)
        if (static_cast<ir::Expr>(f.outputs()[i]) == x) used.insert(i), found = true;
      ok = ok && found;
    }
    for (ir::Expr o : x->operands())
      walk(o);
  };
  walk(e);
  return ok;
}

Exact exactByElimination(const ir::Function& f, const ir::Property& p) {
  Exact out;
  auto dm = symbolic::buildDiscreteModel(f, {});
  if (!dm) {
    out.stop = "variable elimination: " + dm.error().message;
    // The builder's advice is for `chassis infer`, not for verify.
    if (auto k = out.stop.find(": use --method"); k != std::string::npos) out.stop.resize(k);
    return out;
  }
  std::set<size_t> used;
  if (!outputsRead(p.body, f, used) || (p.given && !outputsRead(p.given, f, used))) {
    out.stop = "the event reads a variable that is not an output of " + f.name();
    return out;
  }
  // The union of the scopes of the outputs read, and the size of its joint table.
  std::vector<const symbolic::SymVal*> scalars; // every scalar SymVal involved
  for (size_t i : used) {
    const symbolic::SymVal& sv = dm->outputs[i];
    if (sv.elems.empty()) scalars.push_back(&sv);
    for (const symbolic::SymVal& e : sv.elems)
      scalars.push_back(&e);
  }
  std::set<symbolic::VarId> uset;
  for (auto* sv : scalars)
    uset.insert(sv->scope.begin(), sv->scope.end());
  std::vector<symbolic::VarId> scope(uset.begin(), uset.end());
  size_t total = 1;
  for (symbolic::VarId v : scope) {
    total *= size_t(dm->model.vars[size_t(v)].card);
    if (total > symbolic::kMaxFactorEntries) {
      out.stop = "variable elimination: the event depends jointly on too many choices";
      return out;
    }
  }
  // Position of a VarId in `scope`.
  auto pos = [&](symbolic::VarId v) {
    return size_t(std::lower_bound(scope.begin(), scope.end(), v) - scope.begin());
  };
  auto entry = [&](const symbolic::SymVal& sv, const std::vector<int>& assign) {
    size_t idx = 0;
    for (symbolic::VarId v : sv.scope)
      idx = idx * size_t(dm->model.vars[size_t(v)].card) + size_t(assign[pos(v)]);
    return sv.table[idx];
  };
  symbolic::SymVal q;
  q.scope = scope;
  std::vector<symbolic::Value> frame(size_t(f.numSlots()));
  std::vector<int> assign(scope.size(), 0);
  for (size_t a = 0; a < total; ++a) {
    size_t rest = a;
    for (size_t j = scope.size(); j-- > 0;) {
      int card = dm->model.vars[size_t(scope[j])].card;
      assign[j] = int(rest % size_t(card));
      rest /= size_t(card);
    }
    for (size_t i : used) {
      const symbolic::SymVal& sv = dm->outputs[i];
      symbolic::Value v;
      if (sv.elems.empty()) {
        v = entry(sv, assign);
      } else {
        std::vector<double> xs;
        for (const symbolic::SymVal& e : sv.elems)
          xs.push_back(entry(e, assign).s);
        v = symbolic::Value::array(std::move(xs));
      }
      frame[size_t(f.outputs()[i]->slot())] = std::move(v);
    }
    double code = 0;
    auto ev = symbolic::evaluate(p.body, frame, p.loc);
    if (!ev) {
      out.stop = "the event fails to evaluate: " + ev.error().message;
      return out;
    }
    if (p.kind == ir::PropertyKind::Expectation) {
      code = ev->s;
    } else {
      bool given = true;
      if (p.given) {
        auto g = symbolic::evaluate(p.given, frame, p.loc);
        if (!g) {
          out.stop = "the condition fails to evaluate: " + g.error().message;
          return out;
        }
        given = g->s != 0;
      }
      code = (ev->s != 0 ? 1 : 0) + (given ? 2 : 0);
    }
    q.table.push_back(symbolic::Value::scalar(code));
  }
  auto qid = dm->variableFor(q, "property!" + p.name);
  if (!qid) {
    out.stop = "variable elimination: " + qid.error().message;
    return out;
  }
  std::vector<symbolic::VarId> query{*qid};
  auto ve = symbolic::variableElimination(dm->model, query, {});
  if (!ve) {
    out.stop = "variable elimination: " + ve.error().message;
    return out;
  }
  if (!std::isfinite(ve->logEvidence + dm->logConstant)) {
    out.stop = "the model's observations have probability zero";
    return out;
  }
  const auto& states = dm->states[size_t(*qid)];
  const auto& marg = ve->marginals[0];
  double sumCard = 0;
  for (const auto& v : dm->model.vars)
    sumCard += v.card;
  double nf = double(dm->model.factors.size());
  double delta = 1.01 * 8 * (sumCard + 4 * nf + 16) * 0x1p-53 + 1e-12 * nf;
  if (p.kind == ir::PropertyKind::Expectation) {
    double v = 0, mag = 0;
    for (size_t k = 0; k < states.size(); ++k) {
      v += states[k].s * marg[k];
      mag += std::fabs(states[k].s) * marg[k];
    }
    out.value = v;
    out.err = 3 * delta * mag + 0x1p-1000;
  } else {
    double num = 0, den = 0;
    for (size_t k = 0; k < states.size(); ++k) {
      if (states[k].s >= 2) den += marg[k];
      if (states[k].s == 3) num += marg[k];
    }
    if (den == 0) {
      out.stop = "the conditioning event has probability zero";
      out.done = false;
      return out;
    }
    out.value = num / den;
    out.err = 3 * delta * out.value + 0x1p-1000;
  }
  out.done = true;
  out.method = "exact (variable elimination over " + std::to_string(dm->model.vars.size()) +
               " variables, " + std::to_string(dm->model.factors.size()) + " factors)";
  return out;
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

/// P(a <= X <= b) for one choice, in float64 (the trait's CDF difference, tail side chosen for
/// accuracy); 0 for a kind without the cell method (never a Dim: cells() refuses it first).
double massOf(const Dim& d, double a, double b) {
  return symbolic::dispatch(d.dist, [&](auto t) -> double {
    using D = decltype(t);
    if constexpr (D::kCellMethod) return D::intervalMass(d.ps, a, b);
    return 0;
  });
}

} // namespace

// The certified lower bound of a cell's mass: outward-rounded CDF enclosures, one per kind, in
// symbolic/dist_traits.h (intervalMassLowerBound; dist_detail's enclosures say how).
double choiceMassLowerBound(DistKind dist, const std::vector<double>& ps, double a, double b) {
  if (!(a < b)) return 0;
  return symbolic::dispatch(dist, [&](auto t) -> double {
    using D = decltype(t);
    if constexpr (D::kCellMethod) return D::intervalMassLowerBound(ps, a, b);
    return 0;
  });
}

namespace {

// Outward rounding, as the cell masses' enclosures (symbolic/dist_traits.h).
using symbolic::dist_detail::roundDown;
using symbolic::dist_detail::roundUp;

/// At most this many cell queries are kept for --emit=smt2 (a run may make thousands).
constexpr size_t kMaxEmittedCellQueries = 200;

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
      // The initial box from the kind's trait (symbolic/dist_traits.h), if it has the method.
      const std::optional<std::pair<double, double>> box =
          symbolic::dispatch(ch.dist, [&](auto t) -> std::optional<std::pair<double, double>> {
            using D = decltype(t);
            if constexpr (D::kCellMethod) return D::cellBox(d.ps);
            return std::nullopt;
          });
      if (!box)
        return Error("choice '" + ch.address + "': " + std::string(signature(ch.dist).name) +
                     " is not supported by the cell method");
      d.lo = box->first;
      d.hi = box->second;
      dims.push_back(d);
    }
    for (auto& [v, val] : ex->vars)
      enc.bind(v, val);
    auto ev = enc.encode(p.body);
    if (!ev) return ev.error();
    z3::expr event = ev->e[0];
    z3::solver s(c);
    for (const z3::expr& a : enc.assumptions())
      s.add(a);
    // The coverage solver: the choices' supports, the definitions of auxiliary variables
    // (enclosures, which never restrict the choices) and the negation of the other assumptions,
    // so that (cell /\ cov) unsat says every point of the cell satisfies the model's
    // assumptions (the declared input ranges of called modules); elsewhere a run fails.
    z3::solver cov(c);
    for (const SymChoice& ch : enc.choices())
      cov.add(ch.supportCond);
    for (const z3::expr& d : enc.definitions())
      cov.add(d);
    z3::expr_vector conds(c);
    for (const z3::expr& a : enc.conditions())
      conds.push_back(a);
    cov.add(!z3::mk_and(conds));
    auto cellMass = [&](const Cell& cl) {
      double m = 1;
      for (size_t i = 0; i < dims.size(); ++i)
        m *= massOf(dims[i], cl.lo[i], cl.hi[i]);
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
    // A decided cell counts with a lower bound of its real mass (choiceMassLowerBound, the
    // product rounded down); cellMass, a float64 estimate, only orders the queue.
    auto cellMassLower = [&](const Cell& cl) {
      double m = 1;
      for (size_t i = 0; i < dims.size(); ++i)
        m = std::max(0.0, roundDown(m * choiceMassLowerBound(dims[i].dist, dims[i].ps, cl.lo[i],
                                                             cl.hi[i])));
      return m;
    };
    double inLo = 0, outLo = 0; // masses proved inside / outside, rounded down
    int queries = 0, decided = 0;
    auto interval = [&]() {
      return std::pair{inLo, std::min(1.0, roundUp(1.0 - outLo))};
    };
    // Is (cell /\ phi) unsatisfiable in `sv`? 1 yes, 0 sat, -1 unknown.
    auto unsatIn = [&](const Cell& cl, const z3::expr& phi, z3::solver& sv) {
      double left = std::chrono::duration<double>(deadline - Clock::now()).count();
      applyQueryLimits(sv, c, std::clamp(left, 0.001, 5.0));
      sv.push();
      for (size_t i = 0; i < dims.size(); ++i) {
        sv.add(dims[i].var >= enc.realNumeral(cl.lo[i]));
        sv.add(dims[i].var <= enc.realNumeral(cl.hi[i]));
      }
      sv.add(phi);
      bool emit = o.emitSmt2 && r.smt2.size() < kMaxEmittedCellQueries;
      if (emit) r.smt2.push_back(sv.to_smt2());
      z3::check_result res;
      {
        Z3StopGuard stopGuard(c);
        res = sv.check();
      }
      if (emit)
        r.smt2Answers.push_back(res == z3::sat ? "sat" : res == z3::unsat ? "unsat" : "unknown");
      sv.pop();
      ++queries;
      return res == z3::unsat ? 1 : res == z3::sat ? 0 : -1;
    };
    // Every cell is covered when the root is (checked once); otherwise each decided cell is.
    bool allCovered = unsatIn(root, c.bool_val(true), cov) == 1;
    auto covered = [&](const Cell& cl) {
      return allCovered || unsatIn(cl, c.bool_val(true), cov) == 1;
    };
    while (!q.empty() && queries < o.maxCells && Clock::now() < deadline &&
           !run::stopRequested()) {
      auto [lo, hi] = interval();
      if (decide(lo, hi, p.cmp, p.bound) != 0) break;
      Cell cl = q.top();
      q.pop();
      bool outside = unsatIn(cl, event, s) == 1;
      bool inside = !outside && unsatIn(cl, !event, s) == 1;
      if ((outside || inside) && covered(cl)) {
        double& sum = outside ? outLo : inLo;
        sum = std::min(1.0, std::max(0.0, roundDown(sum + cellMassLower(cl))));
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
    r.verdict = d > 0 ? Verdict::Holds : d < 0 ? Verdict::Violated : Verdict::Unknown;
    if (d == 0) r.reason = "interval does not decide the bound (cell budget or time spent)";
    return Status::ok();
  });
  if (!st) r.reason = st.error().message;
}

} // namespace

double incompleteBetaRegularized(double a, double b, double x) {
  if (!(x > 0)) return 0;
  if (!(x < 1)) return 1;
  // The continued fraction of I_x(a, b) (modified Lentz), valid for x < (a + 1) / (a + b + 2);
  // the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) covers the other side.
  auto cf = [](double a, double b, double x) {
    const double tiny = 1e-300;
    double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (std::fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 200000; ++m) {
      double m2 = 2.0 * m;
      double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
      d = 1 + aa * d;
      if (std::fabs(d) < tiny) d = tiny;
      c = 1 + aa / c;
      if (std::fabs(c) < tiny) c = tiny;
      d = 1 / d;
      h *= d * c;
      aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
      d = 1 + aa * d;
      if (std::fabs(d) < tiny) d = tiny;
      c = 1 + aa / c;
      if (std::fabs(c) < tiny) c = tiny;
      d = 1 / d;
      double del = d * c;
      h *= del;
      if (std::fabs(del - 1) < 1e-16) break;
    }
    return h;
  };
  double lbt =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return std::exp(lbt) * cf(a, b, x) / a;
  return 1 - std::exp(lbt) * cf(b, a, 1 - x) / b;
}

namespace {
/// The x in [0, 1] with I_x(a, b) = target, by bisection (I_x is increasing in x).
double inverseBeta(double target, double a, double b) {
  double lo = 0, hi = 1;
  for (int it = 0; it < 200 && hi - lo > 0; ++it) {
    double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    (incompleteBetaRegularized(a, b, mid) < target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}
} // namespace

std::pair<double, double> clopperPearson(uint64_t k, uint64_t n, double confidence) {
  double alpha = 1 - confidence;
  double dk = double(k), dn = double(n);
  double lo = k == 0 ? 0 : inverseBeta(alpha / 2, dk, dn - dk + 1);
  double hi = k >= n ? 1 : inverseBeta(1 - alpha / 2, dk + 1, dn - dk);
  // Widened by a relative 1e-9 against the float64 evaluation of I_x.
  return {std::max(0.0, lo * (1 - 1e-9)), std::min(1.0, hi * (1 + 1e-9) + 1e-300)};
}

Expected<StatisticalEstimate> estimateProbability(const ir::Property& p, const VerifyOptions& o) {
  if (p.kind != ir::PropertyKind::Probability || !p.module)
    return Error(p.loc, "a statistical estimate applies to P[...] properties only");
  const ir::Function& f = *p.module;
  if (!f.inputs().empty()) return Error(p.loc, "P over a module with inputs is not supported");
  if (reachOf(f).weights)
    return Error(p.loc, "a statistical estimate of a model with observe or factor is not "
                        "supported (only condition, by rejection)");
  if (!(o.confidence > 0 && o.confidence < 1))
    return Error(p.loc, "the confidence must be in (0, 1)");
  if (o.samples == 0) return Error(p.loc, "the number of samples must be positive");
  StatisticalEstimate est;
  est.confidence = o.confidence;
  Rng rng(o.seed);
  symbolic::RunOptions ro;
  ro.recordChoices = false;
  auto deadline = Clock::now() + std::chrono::duration<double>(o.timeoutSec);
  for (uint64_t i = 0; i < o.samples; ++i) {
    // Stopping on time or on the run's stop (never on the outcomes) keeps the interval valid
    // for the count reached.
    if ((i & 1023) == 1023 &&
        ((o.timeoutSec > 0 && Clock::now() > deadline) || run::stopRequested()))
      break;
    auto res = symbolic::run(f, {}, rng, ro);
    if (!res) return Error(p.loc, "a sampled run fails: " + res.error().str());
    if (res->trace.conditionFailed) {
      ++est.rejected;
      continue;
    }
    if (p.given) {
      auto g = symbolic::evaluate(p.given, res->frame, p.loc);
      if (!g) return g.error();
      if (g->s == 0) {
        ++est.rejected;
        continue;
      }
    }
    auto e = symbolic::evaluate(p.body, res->frame, p.loc);
    if (!e) return e.error();
    ++est.samples;
    if (e->s != 0) ++est.hits;
  }
  if (est.samples == 0)
    return Error(p.loc, "no sampled run satisfied the condition (" + std::to_string(est.rejected) +
                            " rejected)");
  est.estimate = double(est.hits) / double(est.samples);
  auto [lo, hi] = clopperPearson(est.hits, est.samples, o.confidence);
  est.lo = lo;
  est.hi = hi;
  est.decision = decide(lo, hi, p.cmp, p.bound);
  return est;
}

namespace {

/// Methods 1-3 of prob_bounds.h: exact (VE, else enumeration), else certified cells.
void certified(const ir::Program& program, const ir::Property& p, const VerifyOptions& o,
               PropertyResult& r) {
  const ir::Function& f = *p.module;
  if (!f.inputs().empty()) {
    r.reason = "P/E over a module with inputs is not supported";
    return;
  }
  auto finish = [&](double v, double err, const std::string& method) {
    r.isInterval = true;
    r.lo = v - err;
    r.hi = v + err;
    if (p.kind == ir::PropertyKind::Probability) {
      r.lo = std::max(0.0, r.lo);
      r.hi = std::min(1.0, r.hi);
    }
    r.method = method;
    int d = decide(r.lo, r.hi, p.cmp, p.bound);
    r.verdict = d > 0 ? Verdict::Holds : d < 0 ? Verdict::Violated : Verdict::Unknown;
    if (d == 0) r.reason = "the value " + num(v) + " is the bound, within the error allowance";
  };
  std::string veStop;
  if (reachOf(f).rangedCall && !rangesAlwaysHold(f, o, r)) {
    veStop = "variable elimination does not check the input ranges of called modules, and Z3 "
             "did not prove that every run respects them";
  } else {
    Exact ex = exactByElimination(f, p);
    if (ex.done) {
      finish(ex.value, ex.err, ex.method);
      return;
    }
    veStop = ex.stop;
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
    finish(v, err,
           "exact enumeration of " + std::to_string(en.traces) + " traces (" + veStop + ")");
    return;
  }
  cells(program, p, o, r);
  if (r.verdict == Verdict::Unknown && !r.isInterval)
    r.reason = "not exact: " + (veStop.empty() ? en.stop : veStop + "; enumeration: " + en.stop) +
               "; no certified cells: " + (r.reason.empty() ? "not applicable" : r.reason);
}

} // namespace

void checkProbability(const ir::Program& program, const ir::Property& p, const VerifyOptions& o,
                      PropertyResult& r) {
  r.verdict = Verdict::Unknown;
  certified(program, p, o, r);
  if (!o.statistical || r.verdict != Verdict::Unknown) return;
  if (p.kind != ir::PropertyKind::Probability) {
    r.reason += r.reason.empty() ? "" : "; ";
    r.reason += "no statistical estimate for E[...]";
    return;
  }
  auto est = estimateProbability(p, o);
  if (!est) {
    r.reason += r.reason.empty() ? "" : "; ";
    r.reason += "no statistical estimate: " + est.error().message;
    return;
  }
  r.statistical = true;
  r.stat = *est;
}

} // namespace chassis::verifier
