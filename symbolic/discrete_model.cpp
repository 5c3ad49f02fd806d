// IR -> factor graph for exact inference (see discrete_model.h for what is built and why).
#include "symbolic/discrete_model.h"

#include "symbolic/distributions.h"
#include "symbolic/evaluator.h"
#include "symbolic/op_semantics.h"
#include "symbolic/special.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <unordered_map>

namespace chassis::symbolic {

using namespace chassis::ir;

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

struct ValueLess {
  bool operator()(const Value& x, const Value& y) const {
    if (x.s != y.s) return x.s < y.s;
    return x.a < y.a;
  }
};

bool isIdentity(const SymVal& v, const DiscreteModel& m) {
  if (v.scope.size() != 1) return false;
  const auto& st = m.states[v.scope[0]];
  return st.size() == v.table.size() && std::equal(st.begin(), st.end(), v.table.begin());
}

} // namespace

Expected<VarId> DiscreteModel::variableFor(const SymVal& v, const std::string& name) {
  if (isIdentity(v, *this)) return v.scope[0];
  std::set<Value, ValueLess> distinct(v.table.begin(), v.table.end());
  std::vector<Value> dom(distinct.begin(), distinct.end());
  const VarId id = VarId(model.vars.size());
  model.vars.push_back({name, int(dom.size())});
  states.push_back(dom);
  std::vector<VarId> vars = v.scope;
  std::vector<int> cards;
  for (VarId s : v.scope) cards.push_back(model.vars[s].card);
  vars.push_back(id);
  cards.push_back(int(dom.size()));
  size_t size = v.table.size() * dom.size();
  if (size > kMaxFactorEntries)
    return Error("exact inference: the deterministic variable '" + name + "' needs a factor of " +
                 std::to_string(size) + " entries (limit " + std::to_string(kMaxFactorEntries) +
                 "): use --method lw or mh");
  std::vector<double> vals(size, 0.0);
  for (size_t i = 0; i < v.table.size(); ++i) {
    size_t k = size_t(std::lower_bound(dom.begin(), dom.end(), v.table[i], ValueLess()) - dom.begin());
    vals[i * dom.size() + k] = 1.0;
  }
  auto fac = Factor::fromValues(vars, cards, std::move(vals));
  if (!fac) return fac.error();
  model.factors.push_back(std::move(*fac));
  return id;
}

namespace {

/// One inlined function instance: its frame of SymVals by slot and its address prefix.
struct Env {
  const Function* fn;
  std::vector<SymVal> slots;
  std::string prefix;
};

SymVal constant(Value v) { return SymVal{{}, {std::move(v)}, {}}; }

class Builder : public StmtDispatch<Builder, Status, Env&, const SymVal*> {
public:
  explicit Builder(DiscreteModel& m) : m_(m) {}

  Status runFunction(const Function& f, std::vector<SymVal> args, const std::string& prefix,
                     const SymVal* guard, std::vector<SymVal>& outs, const SourceLoc& at) {
    if (f.kind() == FunctionKind::External)
      return Error(at, ops::networkNotLoaded(f));
    if (f.kind() != FunctionKind::Module)
      return Error(at, "exact inference: cannot inline network '" + f.name() + "'");
    Env env{&f, std::vector<SymVal>(size_t(f.numSlots())), prefix};
    for (const Var* v : f.vars()) env.slots[v->slot()] = constant(zeroValue(v->type()));
    for (size_t k = 0; k < args.size(); ++k) env.slots[f.inputs()[k].var->slot()] = std::move(args[k]);
    for (const Var* v : f.vars())
      if (v->type().isArray() && env.slots[v->slot()].elems.empty()) {
        auto sp = split(env.slots[v->slot()], v->type(), v->name());
        if (!sp) return sp.error();
        env.slots[v->slot()] = std::move(*sp);
      }
    if (Status s = block(f.body(), env, guard); !s) return s;
    outs.clear();
    for (const Var* o : f.outputs()) outs.push_back(env.slots[o->slot()]);
    return Status::ok();
  }

private:
  friend class StmtDispatch<Builder, Status, Env&, const SymVal*>;
  DiscreteModel& m_;
  std::unordered_map<Expr, std::vector<const Var*>> varsOf_;
  int fresh_ = 0;

  /// One variable read by an expression: a scalar variable or a whole array (elem -1), or one
  /// element of an array variable indexed by a constant.
  struct Read {
    const Var* var;
    int elem;
  };

  /// The reads of `e` under `env` (an index whose variables are all constants is resolved).
  void readsOf(Expr e, Env& env, std::vector<Read>& out, std::set<Expr>& seen) {
    if (!seen.insert(e).second) return;
    if (auto* v = e->as<Var>()) {
      out.push_back({v, -1});
      return;
    }
    if (auto* ix = e->as<Index>()) {
      if (auto* av = ix->array()->as<Var>(); av && !env.slots[av->slot()].elems.empty() &&
                                               !av->type().elementIsArray()) {
        auto k = constantOf(ix->index(), env);
        if (k && *k >= 0 && *k < double(env.slots[av->slot()].elems.size())) {
          out.push_back({av, int(*k)});
          readsOf(ix->index(), env, out, seen); // the index's (constant) variables
          return;
        }
      }
    }
    for (Expr o : e->operands()) readsOf(o, env, out, seen);
  }

  /// The value of `e` when every variable it reads is a known constant, else nullopt.
  std::optional<double> constantOf(Expr e, Env& env) {
    std::vector<Read> rs;
    std::set<Expr> seen;
    readsOf(e, env, rs, seen);
    std::vector<Value> frame(env.slots.size());
    for (const Read& r : rs) {
      const SymVal& sv = env.slots[r.var->slot()];
      if (!sv.elems.empty() || !sv.scope.empty()) return std::nullopt;
      frame[r.var->slot()] = sv.table[0];
    }
    auto v = evaluate(e, frame, SourceLoc{});
    if (!v) return std::nullopt;
    return v->s;
  }

  /// Splits a whole array value into element SymVals (each compressed).
  Expected<SymVal> split(const SymVal& whole, const Type& t, const std::string& name) {
    SymVal out;
    const size_t n = t.numScalars();
    for (size_t k = 0; k < n; ++k) {
      SymVal e;
      e.scope = whole.scope;
      for (const Value& v : whole.table) e.table.push_back(Value::scalar(v.a[k]));
      auto c = compress(std::move(e), name + "[" + std::to_string(k) + "]");
      if (!c) return c.error();
      out.elems.push_back(std::move(*c));
    }
    return out;
  }

  int card(VarId v) const { return m_.model.vars[v].card; }

  /// The union of scopes, in first-seen order.
  static void unite(std::vector<VarId>& into, const std::vector<VarId>& more) {
    for (VarId v : more)
      if (std::find(into.begin(), into.end(), v) == into.end()) into.push_back(v);
  }

  Expected<size_t> tableSize(const std::vector<VarId>& scope, size_t extra, const SourceLoc& loc) {
    size_t n = extra;
    for (VarId v : scope) {
      n *= size_t(card(v));
      if (n > kMaxFactorEntries) {
        std::string names;
        for (VarId w : scope) names += (names.empty() ? "" : ", ") + m_.model.vars[w].name;
        return Error(loc, "exact inference: a factor over " + names + " would have more than " +
                              std::to_string(kMaxFactorEntries) +
                              " entries: the model is too densely connected; use --method lw or mh");
      }
    }
    return n;
  }

  /// Calls fn(assignment index, assignment) for every assignment of `scope` (row-major).
  template <typename F> Status forEach(const std::vector<VarId>& scope, F&& fn) {
    std::vector<int> a(scope.size(), 0);
    size_t idx = 0;
    while (true) {
      if (Status s = fn(idx, a); !s) return s;
      ++idx;
      int k = int(scope.size()) - 1;
      while (k >= 0 && ++a[k] == card(scope[k])) a[k--] = 0;
      if (k < 0) return Status::ok();
    }
  }

  /// Index into `v`'s table for assignment `a` of `scope` (v.scope is a subset of scope).
  size_t indexOf(const SymVal& v, const std::vector<VarId>& scope, const std::vector<int>& a) {
    size_t idx = 0;
    for (VarId x : v.scope) {
      size_t p = size_t(std::find(scope.begin(), scope.end(), x) - scope.begin());
      idx = idx * size_t(card(x)) + size_t(a[p]);
    }
    return idx;
  }

  /// The table of `e` over its scope (united with the guard's and, if given, the fallback's):
  /// where the guard is false the entry is `fallback`'s value (or a zero).
  Expected<SymVal> eval(Expr e, Env& env, const SymVal* guard, const SourceLoc& loc,
                        const SymVal* fallback = nullptr) {
    std::vector<Read> reads;
    std::set<Expr> seen;
    readsOf(e, env, reads, seen);
    SymVal out;
    for (const Read& r : reads) {
      const SymVal& sv = env.slots[r.var->slot()];
      if (sv.elems.empty())
        unite(out.scope, sv.scope);
      else if (r.elem >= 0)
        unite(out.scope, sv.elems[size_t(r.elem)].scope);
      else
        for (const SymVal& el : sv.elems) unite(out.scope, el.scope);
    }
    if (guard) unite(out.scope, guard->scope);
    if (fallback) unite(out.scope, fallback->scope);
    auto n = tableSize(out.scope, 1, loc);
    if (!n) return n.error();
    out.table.resize(*n);
    std::vector<Value> frame(env.slots.size());
    for (const Read& r : reads) {
      const SymVal& sv = env.slots[r.var->slot()];
      if (sv.elems.empty()) {
        if (sv.scope.empty()) frame[r.var->slot()] = sv.table[0];
      } else {
        Value& arr = frame[r.var->slot()];
        arr.a.resize(sv.elems.size());
        for (size_t k = 0; k < sv.elems.size(); ++k)
          if (sv.elems[k].scope.empty()) arr.a.set(k, sv.elems[k].table[0].s);
      }
    }
    Status st = forEach(out.scope, [&](size_t i, const std::vector<int>& a) -> Status {
      if (guard && guard->table[indexOf(*guard, out.scope, a)].s == 0) {
        out.table[i] = fallback ? fallback->table[indexOf(*fallback, out.scope, a)]
                                : zeroValue(e->type());
        return Status::ok();
      }
      for (const Read& r : reads) {
        const SymVal& sv = env.slots[r.var->slot()];
        if (sv.elems.empty()) {
          if (!sv.scope.empty()) frame[r.var->slot()] = sv.table[indexOf(sv, out.scope, a)];
          continue;
        }
        Value& arr = frame[r.var->slot()];
        auto fill = [&](size_t k) {
          const SymVal& el = sv.elems[k];
          if (!el.scope.empty()) arr.a.set(k, el.table[indexOf(el, out.scope, a)].s);
        };
        if (r.elem >= 0)
          fill(size_t(r.elem));
        else
          for (size_t k = 0; k < sv.elems.size(); ++k) fill(k);
      }
      auto r = evaluate(e, frame, loc);
      if (!r) return r.error();
      out.table[i] = std::move(*r);
      return Status::ok();
    });
    if (!st) return st.error();
    return out;
  }

  /// Replaces a value that depends on two or more variables by one deterministic variable.
  Expected<SymVal> compress(SymVal v, const std::string& name) {
    if (v.scope.size() < 2) return v;
    auto id = m_.variableFor(v, name + "#" + std::to_string(fresh_++));
    if (!id) return id.error();
    return SymVal{{*id}, m_.states[*id], {}};
  }

  /// Adds the factor exp(logv[i]) over `scope` (or a constant when the scope is empty).
  Status addLogFactor(std::vector<VarId> scope, std::vector<double> logv) {
    if (scope.empty()) {
      m_.logConstant += logv[0];
      return Status::ok();
    }
    std::vector<int> cards;
    for (VarId v : scope) cards.push_back(card(v));
    auto f = Factor::fromLogValues(std::move(scope), std::move(cards), logv);
    if (!f) return f.error();
    m_.model.factors.push_back(std::move(*f));
    return Status::ok();
  }

  Expected<std::string> address(const std::string& name, const std::vector<Expr>& idx, Env& env,
                                const SourceLoc& loc) {
    std::string a = env.prefix + name;
    for (Expr i : idx) {
      auto v = eval(i, env, nullptr, loc);
      if (!v) return v.error();
      if (!v->scope.empty())
        return Error(loc, "exact inference: the address of '" + name +
                              "' has an index that depends on random choices; use --method lw or mh");
      a += "[" + formatNumber(v->table[0].s) + "]";
    }
    return a;
  }

  /// Evaluates distribution parameters: a table of parameter vectors over `scope`.
  Status params(const std::vector<Expr>& es, Env& env, const SymVal* guard, const SourceLoc& loc,
                std::vector<SymVal>& out, std::vector<VarId>& scope) {
    out.clear();
    for (Expr e : es) {
      auto v = eval(e, env, guard, loc);
      if (!v) return v.error();
      unite(scope, v->scope);
      out.push_back(std::move(*v));
    }
    return Status::ok();
  }

  /// The parameter vector of `ds` at assignment `a` of `scope`.
  void paramsAt(const std::vector<Expr>& es, const std::vector<SymVal>& ps,
                const std::vector<VarId>& scope, const std::vector<int>& a, std::vector<double>& out) {
    out.clear();
    for (size_t k = 0; k < ps.size(); ++k) {
      const Value& v = ps[k].table[indexOf(ps[k], scope, a)];
      if (es[k]->type().isArray())
        out.insert(out.end(), v.a.begin(), v.a.end());
      else
        out.push_back(v.s);
    }
  }

  bool guardAt(const SymVal* guard, const std::vector<VarId>& scope, const std::vector<int>& a) {
    return !guard || guard->table[indexOf(*guard, scope, a)].s != 0;
  }

  /// v' = guard ? v : old, over the union of the scopes.
  Expected<SymVal> merge(const SymVal* guard, const SymVal& v, const SymVal& old,
                         const SourceLoc& loc) {
    if (!guard) return v;
    if (!v.elems.empty()) {
      SymVal out;
      for (size_t k = 0; k < v.elems.size(); ++k) {
        auto e = merge(guard, v.elems[k], old.elems[k], loc);
        if (!e) return e.error();
        auto c = compress(std::move(*e), "merged");
        if (!c) return c.error();
        out.elems.push_back(std::move(*c));
      }
      return out;
    }
    SymVal out;
    unite(out.scope, guard->scope);
    unite(out.scope, v.scope);
    unite(out.scope, old.scope);
    auto n = tableSize(out.scope, 1, loc);
    if (!n) return n.error();
    out.table.resize(*n);
    Status st = forEach(out.scope, [&](size_t i, const std::vector<int>& a) -> Status {
      out.table[i] = guardAt(guard, out.scope, a) ? v.table[indexOf(v, out.scope, a)]
                                                  : old.table[indexOf(old, out.scope, a)];
      return Status::ok();
    });
    if (!st) return st.error();
    return out;
  }

  Status sampleStmt(const SampleStmt& x, Env& env, const SymVal* guard) {
    const SourceLoc& loc = x.loc();
    const DistSignature& sig = signature(x.dist);
    if (!sig.discrete)
      return Error(loc, "exact inference needs finite discrete choices; '" + x.name + "' ~ " +
                            std::string(sig.name) +
                            " is continuous: use --method lw, mh, smc or nuts");
    if (x.dist == DistKind::Poisson || x.dist == DistKind::Geometric)
      return Error(loc, "exact inference needs finite discrete choices; '" + x.name + "' ~ " +
                            std::string(sig.name) +
                            " has infinitely many values: use --method lw, mh or smc");
    auto addr = address(x.name, x.indices, env, loc);
    if (!addr) return addr.error();
    std::vector<SymVal> ps;
    std::vector<VarId> scope;
    if (guard) unite(scope, guard->scope);
    if (Status s = params(x.params, env, guard, loc, ps, scope); !s) return s;
    // Pass 1: validate and collect the values the choice can take.
    std::set<double> dom;
    std::vector<double> pv;
    Status st = forEach(scope, [&](size_t, const std::vector<int>& a) -> Status {
      if (!guardAt(guard, scope, a)) return Status::ok();
      paramsAt(x.params, ps, scope, a, pv);
      if (auto why = validateParams(x.dist, pv))
        return Error(loc, "invalid distribution parameter: " + *why);
      Support sp = support(x.dist, pv);
      if (!std::isfinite(sp.lo) || !std::isfinite(sp.hi) || sp.hi - sp.lo > 1e6)
        return Error(loc, "exact inference: '" + x.name + "' has too many values");
      for (double v = sp.lo; v <= sp.hi; v += 1) dom.insert(v);
      return Status::ok();
    });
    if (!st) return st;
    if (dom.empty()) dom.insert(0); // never reached (guard always false)
    std::vector<double> values(dom.begin(), dom.end());
    const VarId id = VarId(m_.model.vars.size());
    m_.model.vars.push_back({*addr, int(values.size())});
    std::vector<Value> states;
    for (double v : values) states.push_back(Value::scalar(v));
    m_.states.push_back(states);
    bool known = false;
    for (auto& c : m_.choices) known = known || c.first == *addr;
    if (!known) m_.choices.emplace_back(*addr, id);
    // Pass 2: the factor p(X | params) over scope + {X}.
    auto n = tableSize(scope, values.size(), loc);
    if (!n) return n.error();
    std::vector<double> logv(*n, kNegInf);
    st = forEach(scope, [&](size_t i, const std::vector<int>& a) -> Status {
      double* row = &logv[i * values.size()];
      if (!guardAt(guard, scope, a)) {
        row[0] = 0; // the choice does not exist here: a point mass on the first state
        return Status::ok();
      }
      paramsAt(x.params, ps, scope, a, pv);
      for (size_t k = 0; k < values.size(); ++k) row[k] = logDensity(x.dist, pv, values[k]);
      return Status::ok();
    });
    if (!st) return st;
    std::vector<VarId> fscope = scope;
    fscope.push_back(id);
    if (Status s = addLogFactor(fscope, std::move(logv)); !s) return s;
    SymVal xv{{id}, states, {}};
    auto merged = merge(guard, xv, env.slots[x.var->slot()], loc);
    if (!merged) return merged.error();
    auto c = compress(std::move(*merged), x.var->name());
    if (!c) return c.error();
    env.slots[x.var->slot()] = std::move(*c);
    return Status::ok();
  }

  /// A factor over the scope of `es` (+ guard) with log value fn(values) where the guard holds.
  Status weightStmt(const std::vector<Expr>& es, Env& env, const SymVal* guard, const SourceLoc& loc,
                    const std::function<Expected<double>(const std::vector<const Value*>&)>& fn) {
    std::vector<SymVal> vs;
    std::vector<VarId> scope;
    if (guard) unite(scope, guard->scope);
    for (Expr e : es) {
      auto v = eval(e, env, guard, loc);
      if (!v) return v.error();
      unite(scope, v->scope);
      vs.push_back(std::move(*v));
    }
    auto n = tableSize(scope, 1, loc);
    if (!n) return n.error();
    std::vector<double> logv(*n, 0.0);
    std::vector<const Value*> at(vs.size());
    Status st = forEach(scope, [&](size_t i, const std::vector<int>& a) -> Status {
      if (!guardAt(guard, scope, a)) return Status::ok();
      for (size_t k = 0; k < vs.size(); ++k) at[k] = &vs[k].table[indexOf(vs[k], scope, a)];
      auto w = fn(at);
      if (!w) return Error(loc, w.error().message);
      logv[i] = *w;
      return Status::ok();
    });
    if (!st) return st;
    return addLogFactor(std::move(scope), std::move(logv));
  }

  Status block(const Block& b, Env& env, const SymVal* guard) {
    for (Stmt s : b)
      if (Status st = stmt(s, env, guard); !st) return st;
    return Status::ok();
  }

  /// let v = e and v = e: v's new table (element by element for an array held so).
  Status bind(const Var* var, Expr value, const SourceLoc& loc, Env& env, const SymVal* guard) {
    SymVal& slot = env.slots[var->slot()];
    if (!slot.elems.empty()) {
      // x = update(x, i, v) with i constant: one element.
      if (auto* u = value->as<Update>(); u && u->array() == var && !var->type().elementIsArray()) {
        auto k = constantOf(u->index(), env);
        if (k && *k >= 0 && *k < double(slot.elems.size())) {
          SymVal old = slot.elems[size_t(*k)];
          auto v = eval(u->value(), env, guard, loc, &old);
          if (!v) return v.error();
          auto c = compress(std::move(*v), var->name() + "[" + formatNumber(*k) + "]");
          if (!c) return c.error();
          env.slots[var->slot()].elems[size_t(*k)] = std::move(*c);
          return Status::ok();
        }
      }
      if (auto* src = value->as<Var>()) { // a whole-array copy
        auto mv = merge(guard, env.slots[src->slot()], slot, loc);
        if (!mv) return mv.error();
        env.slots[var->slot()] = std::move(*mv);
        return Status::ok();
      }
      auto whole = eval(value, env, guard, loc);
      if (!whole) return whole.error();
      auto sp = split(*whole, var->type(), var->name());
      if (!sp) return sp.error();
      auto mv = merge(guard, *sp, env.slots[var->slot()], loc);
      if (!mv) return mv.error();
      env.slots[var->slot()] = std::move(*mv);
      return Status::ok();
    }
    SymVal old = slot;
    auto v = eval(value, env, guard, loc, &old);
    if (!v) return v.error();
    auto c = compress(std::move(*v), var->name());
    if (!c) return c.error();
    env.slots[var->slot()] = std::move(*c);
    return Status::ok();
  }

  Status stmtLet(const LetStmt& x, Env& env, const SymVal* guard) {
    return bind(x.var, x.value, x.loc(), env, guard);
  }

  Status stmtAssign(const AssignStmt& x, Env& env, const SymVal* guard) {
    return bind(x.var, x.value, x.loc(), env, guard);
  }

  Status stmtSample(const SampleStmt& x, Env& env, const SymVal* guard) {
    return sampleStmt(x, env, guard);
  }

  Status stmtObserve(const ObserveStmt& x, Env& env, const SymVal* guard) {
    const SourceLoc& loc = x.loc();
    std::vector<Expr> es = x.params;
    es.push_back(x.value);
    const DistKind d = x.dist;
    std::vector<double> pv;
    return weightStmt(es, env, guard, loc, [&](const std::vector<const Value*>& at) -> Expected<double> {
      pv.clear();
      for (size_t k = 0; k + 1 < at.size(); ++k) {
        if (es[k]->type().isArray())
          pv.insert(pv.end(), at[k]->a.begin(), at[k]->a.end());
        else
          pv.push_back(at[k]->s);
      }
      if (auto why = validateParams(d, pv)) return Error("invalid distribution parameter: " + *why);
      return logDensity(d, pv, at.back()->s);
    });
  }

  Status stmtCondition(const ConditionStmt& x, Env& env, const SymVal* guard) {
    const SourceLoc& loc = x.loc();
    return weightStmt({x.cond}, env, guard, loc,
                      [](const std::vector<const Value*>& at) -> Expected<double> {
                        return at[0]->s != 0 ? 0.0 : kNegInf;
                      });
  }

  Status stmtFactor(const FactorStmt& x, Env& env, const SymVal* guard) {
    const SourceLoc& loc = x.loc();
    return weightStmt({x.logWeight}, env, guard, loc,
                      [](const std::vector<const Value*>& at) -> Expected<double> {
                        if (auto why = ops::factorError(at[0]->s)) return Error(*why);
                        return at[0]->s;
                      });
  }

  Status stmtAssert(const AssertStmt& x, Env& env, const SymVal* guard) {
    const SourceLoc& loc = x.loc();
    auto v = eval(x.cond, env, guard, loc);
    if (!v) return v.error();
    for (size_t i = 0; i < v->table.size(); ++i) {
      // Entries where the guard is false hold a zero (false) placeholder: recompute the guard.
      std::vector<int> a(v->scope.size());
      size_t r = i;
      for (int k = int(v->scope.size()) - 1; k >= 0; --k) {
        a[k] = int(r % size_t(card(v->scope[k])));
        r /= size_t(card(v->scope[k]));
      }
      if (guardAt(guard, v->scope, a) && v->table[i].s == 0)
        return Error(loc, ops::assertionFailed(x.message));
    }
    return Status::ok();
  }

  Status stmtIf(const IfStmt& x, Env& env, const SymVal* guard) {
    const SourceLoc& loc = x.loc();
    auto c = eval(x.cond, env, guard, loc);
    if (!c) return c.error();
    if (c->scope.empty()) return block(c->table[0].s != 0 ? x.thenBody : x.elseBody, env, guard);
    // Guards of the branches: g && c and g && !c (c is false where g is, by eval).
    SymVal gThen = *c, gElse = *c;
    for (size_t i = 0; i < c->table.size(); ++i) gElse.table[i].s = c->table[i].s != 0 ? 0 : 1;
    if (guard) {
      auto ge = merge(guard, gElse, constant(Value::scalar(0)), loc);
      if (!ge) return ge.error();
      gElse = std::move(*ge);
    }
    auto gt = compress(std::move(gThen), "if");
    if (!gt) return gt.error();
    auto gf = compress(std::move(gElse), "else");
    if (!gf) return gf.error();
    if (Status st = block(x.thenBody, env, &*gt); !st) return st;
    return block(x.elseBody, env, &*gf);
  }

  Status stmtFor(const ForStmt& x, Env& env, const SymVal* guard) {
    for (int64_t k = x.lo; k < x.hi; ++k) {
      env.slots[x.index->slot()] = constant(Value::scalar(double(k)));
      if (Status st = block(x.body, env, guard); !st) return st;
    }
    return Status::ok();
  }

  Status stmtCall(const CallStmt& x, Env& env, const SymVal* guard) {
    const SourceLoc& loc = x.loc();
    std::vector<SymVal> args;
    for (Expr a : x.args) {
      if (auto* av = a->as<Var>()) {
        args.push_back(env.slots[av->slot()]);
        continue;
      }
      auto v = eval(a, env, guard, loc);
      if (!v) return v.error();
      if (a->type().isArray()) {
        auto sp = split(*v, a->type(), "arg");
        if (!sp) return sp.error();
        v = std::move(*sp);
      }
      args.push_back(std::move(*v));
    }
    auto site = address(x.site, x.siteIndices, env, loc);
    if (!site) return site.error();
    std::vector<SymVal> outs;
    if (Status st = runFunction(*x.callee, std::move(args), *site + "/", guard, outs, loc); !st)
      return st;
    for (size_t k = 0; k < x.results.size() && k < outs.size(); ++k) {
      if (!x.results[k]) continue;
      auto mv = merge(guard, outs[k], env.slots[x.results[k]->slot()], loc);
      if (!mv) return mv.error();
      if (!mv->elems.empty()) {
        env.slots[x.results[k]->slot()] = std::move(*mv);
        continue;
      }
      auto c = compress(std::move(*mv), x.results[k]->name());
      if (!c) return c.error();
      env.slots[x.results[k]->slot()] = std::move(*c);
    }
    return Status::ok();
  }
};

} // namespace

Expected<DiscreteModel> buildDiscreteModel(const Function& f, std::span<const Value> inputs) {
  if (inputs.size() != f.inputs().size())
    return Error(f.loc(), "'" + f.name() + "' takes " + std::to_string(f.inputs().size()) +
                              " inputs, got " + std::to_string(inputs.size()));
  for (size_t k = 0; k < inputs.size(); ++k)
    if (auto why = checkInput(f, k, inputs[k])) return Error(f.loc(), *why);
  DiscreteModel m;
  Builder b(m);
  std::vector<SymVal> args;
  for (const Value& v : inputs) args.push_back(constant(v));
  if (Status s = b.runFunction(f, std::move(args), "", nullptr, m.outputs, f.loc()); !s)
    return s.error();
  return m;
}

} // namespace chassis::symbolic
