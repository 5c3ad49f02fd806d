// Lowering from the checked AST to the core IR; the mapping is documented in lower.h. The AST's
// checker guarantees (ast.h, "After checking") are relied on, but a violated one still gives an
// Error ("internal: ...") at the node's location rather than an ill-typed IR or a crash.
#include "spec/lower.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <numbers>
#include <unordered_map>

namespace chassis::ir {

namespace {

using spec::ExprKind;
using VarMap = std::unordered_map<const spec::VarDecl*, const Var*>;

Error internal(const SourceLoc& loc, const std::string& what) {
  return Error(loc, "internal: lowering: " + what);
}

/// Per-function (or per-property) state.
struct Scope {
  Function* fn = nullptr; // null in a forall/exists property
  VarMap vars;
  std::vector<Expr> loopIndices;           // enclosing loop indices, outermost first
  std::map<std::string, int> siteCounts;   // calls of each random callee so far
  std::map<std::string, int> sampleCounts; // sample statements of each name so far
  std::string propertyName;                // when lowering a property
  int conditional = 0; // > 0 inside an operand that is evaluated only on some paths
};

class Lowerer {
public:
  Lowerer(const spec::Program& ast, const LowerOptions& opt) : ast_(ast), opt_(opt) {}

  Expected<Program> run() {
    // The one place Context::NodeLimitExceeded is caught: the statement being lowered when the
    // program outgrew the limit is the error's location.
    c().setNodeLimit(kMaxLoweredNodes);
    Expected<Program> p = [&]() -> Expected<Program> {
      try {
        return lowerAll();
      } catch (const Context::NodeLimitExceeded& e) {
        return Error(where_, "lowering this program makes more than " + std::to_string(e.limit) +
                                 " expression nodes (an elementwise operation on an array is "
                                 "expanded element by element); write it as a loop over the "
                                 "array instead");
      }
    }();
    if (p) p->ctx().setNodeLimit(0);
    return p;
  }

private:
  Expected<Program> lowerAll() {
    for (const spec::EnumDecl* e : ast_.enums) {
      EnumDecl d{e->name, {}, e->loc};
      for (auto& k : e->constants)
        d.constants.push_back(k.name);
      enumIds_[e] = c().addEnum(std::move(d));
    }
    for (const spec::CallableDecl* d : ast_.order) {
      Status s = d->kind == spec::DeclKind::Network
                     ? lowerNetwork(static_cast<const spec::NetworkDecl&>(*d))
                     : lowerModule(static_cast<const spec::ModuleDecl&>(*d));
      if (!s) return s.error();
    }
    for (const spec::PropertyDecl* p : ast_.properties) {
      Status s = lowerProperty(*p);
      if (!s) return s.error();
    }
    return std::move(prog_);
  }

  Context& c() { return prog_.ctx(); }

  Expected<Type> type(const spec::Type& t, const SourceLoc& loc) {
    auto scalar = [&](spec::TypeKind k) -> Expected<Type> {
      switch (k) {
      case spec::TypeKind::Bool:
        return Type::boolean();
      case spec::TypeKind::Int:
        return Type::integer();
      case spec::TypeKind::Real:
        return Type::real();
      case spec::TypeKind::Enum: {
        auto it = enumIds_.find(t.enumDecl);
        if (it == enumIds_.end()) return internal(loc, "an enum type not declared");
        return Type::enumeration(it->second);
      }
      default:
        return internal(loc, "a value of type " + t.str());
      }
    };
    if (t.isMatrix()) { // T[N, K]: the IR's two-dimensional T[N][K] (stored row-major)
      auto e = scalar(t.elem);
      if (!e) return e;
      return Type::array(Type::array(*e, int(t.cols)), int(t.rows()));
    }
    if (t.isArray()) {
      auto e = scalar(t.elem);
      if (!e) return e;
      return Type::array(*e, int(t.length));
    }
    return scalar(t.kind);
  }

  // ---- declarations ----

  Status signature(const spec::CallableDecl& d, Function& f, VarMap& vars) {
    for (const spec::VarDecl* v : d.inputs) {
      auto t = type(v->type, v->loc);
      if (!t) return t.error();
      std::optional<std::pair<double, double>> range;
      if (v->range) range = std::pair{v->range->lo, v->range->hi};
      vars[v] = f.addInput(v->name, *t, range);
    }
    for (const spec::VarDecl* v : d.outputs) {
      auto t = type(v->type, v->loc);
      if (!t) return t.error();
      vars[v] = f.addOutput(v->name, *t);
    }
    return Status::ok();
  }

  Status lowerNetwork(const spec::NetworkDecl& d) {
    where_ = d.loc;
    if (opt_.networkLoader) {
      auto f = opt_.networkLoader(d, prog_);
      if (!f) return f.error();
      const Function* fn = *f;
      // The loader's function must have the declared signature.
      bool ok = fn && fn->inputs().size() == d.inputs.size() &&
                fn->outputs().size() == d.outputs.size() && !fn->isRandom();
      for (size_t k = 0; ok && k < d.inputs.size(); ++k) {
        auto t = type(d.inputs[k]->type, d.loc);
        ok = t && fn->inputs()[k].var->type() == *t;
      }
      for (size_t k = 0; ok && k < d.outputs.size(); ++k) {
        auto t = type(d.outputs[k]->type, d.loc);
        ok = t && fn->outputs()[k]->type() == *t;
      }
      if (!ok)
        return Error(d.loc, "network '" + d.name +
                                "' as loaded does not have the declared "
                                "inputs and outputs");
      bindTo(d, fn);
      return Status::ok();
    }
    Function& f = prog_.addFunction(d.name, FunctionKind::External, d.loc);
    f.doc = d.doc;
    f.setExternalFile(d.resolvedPath.empty() ? d.path : d.resolvedPath);
    Status s = signature(d, f, varsOf_[&d]);
    if (!s) return s;
    fns_[&d] = &f;
    return Status::ok();
  }

  Status lowerModule(const spec::ModuleDecl& d) {
    where_ = d.loc;
    bool replaced = opt_.replaceModule && opt_.replaceModule->module == d.name;
    Function& f =
        prog_.addFunction(replaced ? d.name + "'reference" : d.name, FunctionKind::Module, d.loc);
    f.doc = d.doc;
    Scope sc;
    sc.fn = &f;
    Status s = signature(d, f, sc.vars);
    if (!s) return s;
    Block body;
    s = block(d.body, sc, body);
    if (!s) return s;
    f.setBody(std::move(body));
    fns_[&d] = &f;
    varsOf_[&d] = std::move(sc.vars);
    if (replaced) return replaceModule(d, f);
    return Status::ok();
  }

  // The replacement of `d` (lowered as `original`): same signature, deterministic; the inputs and
  // outputs of the declaration now name the replacement's.
  Status replaceModule(const spec::ModuleDecl& d, const Function& original) {
    auto r = opt_.replaceModule->build(original, prog_);
    if (!r) return r.error();
    const Function* fn = *r;
    bool ok = fn && fn->inputs().size() == original.inputs().size() &&
              fn->outputs().size() == original.outputs().size() && !fn->isRandom();
    for (size_t k = 0; ok && k < original.inputs().size(); ++k)
      ok = fn->inputs()[k].var->type() == original.inputs()[k].var->type();
    for (size_t k = 0; ok && k < original.outputs().size(); ++k)
      ok = fn->outputs()[k]->type() == original.outputs()[k]->type();
    if (!ok)
      return Error(d.loc, "the replacement of module '" + d.name +
                              "' does not have its inputs and outputs, or is random");
    bindTo(d, fn);
    return Status::ok();
  }

  // `fn` (a loaded network, a module's replacement) stands for declaration `d`: calls of `d` call
  // it, and `d`'s inputs and outputs name its variables.
  void bindTo(const spec::CallableDecl& d, const Function* fn) {
    fns_[&d] = fn;
    VarMap& vars = varsOf_[&d];
    for (size_t k = 0; k < d.inputs.size(); ++k)
      vars[d.inputs[k]] = fn->inputs()[k].var;
    for (size_t k = 0; k < d.outputs.size(); ++k)
      vars[d.outputs[k]] = fn->outputs()[k];
  }

  // ---- statements ----

  Status block(const std::vector<spec::StmtPtr>& stmts, Scope& sc, Block& out) {
    for (auto& s : stmts) {
      Status st = stmt(*s, sc, out);
      if (!st) return st;
    }
    return Status::ok();
  }

  Expected<const Var*> target(const spec::Stmt& s, Scope& sc) {
    auto it = sc.vars.find(s.var);
    if (it == sc.vars.end()) return internal(s.nameLoc, "assignment to an unknown variable");
    return it->second;
  }

  Expected<std::vector<Expr>> distParams(const spec::Expr& d, Scope& sc, Block& out) {
    if (d.kind != ExprKind::Dist) return internal(d.loc, "a distribution expected");
    std::vector<Expr> ps;
    for (auto& a : d.args) {
      auto e = expr(*a, sc, out);
      if (!e) return e.error();
      ps.push_back(*e);
    }
    if (ps.size() != size_t(chassis::signature(d.dist).nparams))
      return internal(d.loc, "wrong number of distribution parameters");
    return ps;
  }

  static Type distResultType(DistKind k) {
    switch (chassis::signature(k).result) {
    case DistResultType::Bool:
      return Type::boolean();
    case DistResultType::Int:
      return Type::integer();
    case DistResultType::Real:
      return Type::real();
    }
    return Type::real();
  }

  /// The lowered indices of an assignment's or a sample's target (`x[i] = ...`, `x[i, j] ~ ...`):
  /// null where the statement has none.
  Status targetIndices(const spec::Stmt& s, Scope& sc, Block& out, Expr& idx, Expr& idx2) {
    for (auto [from, to] : {std::pair{s.index.get(), &idx}, std::pair{s.index2.get(), &idx2}}) {
      if (!from) continue;
      auto e = expr(*from, sc, out);
      if (!e) return e.error();
      *to = *e;
    }
    return Status::ok();
  }

  Status stmt(const spec::Stmt& s, Scope& sc, Block& out) {
    const SourceLoc& loc = s.loc;
    where_ = loc;
    switch (s.kind) {
    case spec::StmtKind::Let: {
      auto v = expr(*s.value, sc, out);
      if (!v) return v.error();
      const Var* var = sc.fn->newVar(s.var->name, (*v)->type(), VarRole::Local);
      sc.vars[s.var] = var;
      out.push_back(c().stmt<LetStmt>(loc, var, *v));
      return Status::ok();
    }
    case spec::StmtKind::LetTuple: {
      if (!s.value || s.value->kind != ExprKind::Call)
        return internal(loc, "'let (...)' without a call");
      auto outs = callOutputs(*s.value, sc, out);
      if (!outs) return outs.error();
      if (outs->size() != s.vars.size()) return internal(loc, "'let (...)' arity");
      for (size_t k = 0; k < s.vars.size(); ++k) {
        const Var* var = sc.fn->newVar(s.vars[k]->name, (*outs)[k]->type(), VarRole::Local);
        sc.vars[s.vars[k]] = var;
        out.push_back(c().stmt<LetStmt>(s.nameLocs[k], var, (*outs)[k]));
      }
      return Status::ok();
    }
    case spec::StmtKind::Var: {
      auto t = type(s.var->type, s.loc);
      if (!t) return t.error();
      Expr init = nullptr;
      if (s.value) {
        auto v = expr(*s.value, sc, out);
        if (!v) return v.error();
        init = *v;
      } else {
        init = zeroOf(*t);
      }
      const Var* var = sc.fn->newVar(s.var->name, *t, VarRole::Local);
      sc.vars[s.var] = var;
      out.push_back(c().stmt<AssignStmt>(loc, var, init));
      return Status::ok();
    }
    case spec::StmtKind::Assign: {
      auto var = target(s, sc);
      if (!var) return var.error();
      Expr idx = nullptr, idx2 = nullptr;
      if (Status st = targetIndices(s, sc, out, idx, idx2); !st) return st;
      auto v = expr(*s.value, sc, out);
      if (!v) return v.error();
      Expected<Expr> rhs = idx ? updated(*var, idx, idx2, *v) : Expected<Expr>(*v);
      if (!rhs) return Error(loc, "internal: lowering: " + rhs.error().message);
      if ((*rhs)->type() != (*var)->type())
        return internal(loc, "assigning " + c().typeName((*rhs)->type()) + " to " +
                                 c().typeName((*var)->type()));
      out.push_back(c().stmt<AssignStmt>(loc, *var, *rhs));
      return Status::ok();
    }
    case spec::StmtKind::Sample: {
      const spec::Expr& d = *s.value;
      auto ps = distParams(d, sc, out);
      if (!ps) return ps.error();
      Expr idx = nullptr, idx2 = nullptr;
      if (Status st = targetIndices(s, sc, out, idx, idx2); !st) return st;
      // The target: a new random choice, or an existing output / local.
      const Var* var = nullptr;
      if (auto it = sc.vars.find(s.var); it != sc.vars.end()) {
        var = it->second;
      } else {
        if (idx) return internal(loc, "an indexed sample into an undeclared array");
        auto t = type(s.var->type, s.loc);
        if (!t) return t.error();
        var = sc.fn->newVar(s.var->name, *t, VarRole::Random);
        sc.vars[s.var] = var;
      }
      Type drawType = distResultType(d.dist);
      if (!idx && var->type().isArray() && !drawType.isArray())
        return d.flatShape != spec::FlatShape::None
                   ? constrainedArray(s, d.flatShape, var, nullptr, sc, out)
                   : vectorised(s, d.dist, *ps, nullptr, var, sc, out);
      if (idx && !idx2 && d.flatShape != spec::FlatShape::None) // X[i] ~ Flat(simplex): row i
        return constrainedArray(s, d.flatShape, var, idx, sc, out);
      Type slotType = idx2  ? var->type().element().element()
                      : idx ? var->type().element()
                            : var->type();
      // The address: unique per execution. The enclosing loop indices (outermost first) except
      // one used as the explicit index, then the explicit index: `theta[j] ~` in loop j is
      // theta[3]; `y[j] ~` in loops i, j is y[1][3]; a scalar `e ~` in loop i is e[2]. A second
      // sample statement with the same name in the same module is named x#2.
      std::vector<Expr> address;
      for (Expr li : sc.loopIndices)
        if (li != idx && li != idx2) address.push_back(li);
      if (idx) address.push_back(idx);
      if (idx2) address.push_back(idx2);
      int count = ++sc.sampleCounts[s.name];
      std::string addrName = count == 1 ? s.name : s.name + "#" + std::to_string(count);
      if (!idx && drawType == slotType) {
        out.push_back(c().stmt<SampleStmt>(loc, var, d.dist, *ps, addrName, address));
        return Status::ok();
      }
      // Draw into a temporary, then convert (int -> real) and/or store into the array.
      const Var* tmp = sc.fn->newVar(s.name + ".draw", drawType, VarRole::Random);
      out.push_back(c().stmt<SampleStmt>(loc, tmp, d.dist, *ps, addrName, address));
      Expr val = tmp;
      if (drawType != slotType) {
        if (drawType == Type::integer() && slotType == Type::real())
          val = c().unary(UnOp::ToReal, tmp);
        else
          return internal(loc,
                          "a " + c().typeName(drawType) + " draw into " + c().typeName(slotType));
      }
      auto rhs = idx ? updated(var, idx, idx2, val) : Expected<Expr>(val);
      if (!rhs) return internal(loc, rhs.error().message);
      out.push_back(c().stmt<AssignStmt>(loc, var, *rhs));
      return Status::ok();
    }
    case spec::StmtKind::Observe: {
      auto ps = distParams(*s.value, sc, out);
      if (!ps) return ps.error();
      auto v = expr(*s.value2, sc, out);
      if (!v) return v.error();
      Type want = distResultType(s.value->dist);
      Expr val = *v;
      if (val->type().isArray() && !want.isArray())
        return vectorised(s, s.value->dist, *ps, val, nullptr, sc, out);
      if (val->type() == Type::integer() && want == Type::real())
        val = c().unary(UnOp::ToReal, val);
      if (val->type() != want)
        return internal(loc, "observing " + c().typeName(val->type()) + " from a " +
                                 c().typeName(want) + " distribution");
      out.push_back(c().stmt<ObserveStmt>(loc, s.value->dist, *ps, val));
      return Status::ok();
    }
    case spec::StmtKind::Condition:
    case spec::StmtKind::Factor:
    case spec::StmtKind::Assert: {
      auto v = expr(*s.value, sc, out);
      if (!v) return v.error();
      Expr e = *v;
      if (s.kind == spec::StmtKind::Factor) {
        if (e->type() == Type::integer()) e = c().unary(UnOp::ToReal, e);
        if (e->type() != Type::real()) return internal(loc, "factor of a non-number");
        out.push_back(c().stmt<FactorStmt>(loc, e));
        return Status::ok();
      }
      if (e->type() != Type::boolean()) return internal(loc, "a condition that is not bool");
      if (s.kind == spec::StmtKind::Condition)
        out.push_back(c().stmt<ConditionStmt>(loc, e));
      else
        out.push_back(c().stmt<AssertStmt>(loc, e, s.message));
      return Status::ok();
    }
    case spec::StmtKind::If: {
      auto cond = expr(*s.value, sc, out);
      if (!cond) return cond.error();
      Block thenB, elseB;
      Status st = block(s.body, sc, thenB);
      if (!st) return st;
      st = block(s.elseBody, sc, elseB);
      if (!st) return st;
      out.push_back(c().stmt<IfStmt>(loc, *cond, std::move(thenB), std::move(elseB)));
      return Status::ok();
    }
    case spec::StmtKind::For: {
      const Var* i = sc.fn->newVar(s.var->name, Type::integer(), VarRole::LoopIndex);
      sc.vars[s.var] = i;
      sc.loopIndices.push_back(i);
      Block body;
      Status st = block(s.body, sc, body);
      sc.loopIndices.pop_back();
      if (!st) return st;
      out.push_back(c().stmt<ForStmt>(loc, i, s.from, s.to, std::move(body)));
      return Status::ok();
    }
    }
    return internal(loc, "an unknown statement");
  }

  // ---- expressions ----

  Expr zeroOf(const Type& t) {
    if (!t.isArray()) return c().zero(t);
    std::vector<Expr> elems(size_t(t.length()), zeroOf(t.element()));
    return c().arrayLit(t.element(), std::move(elems));
  }

  /// Element k of array expression a (taken from an array literal directly).
  Expr elementAt(Expr a, int k) {
    if (auto* lit = a->as<ArrayLit>()) return lit->elements()[k];
    return c().index(a, c().intConst(k));
  }

  /// `a` with a[i] (or, with j, a[i][j] of a matrix) replaced by v.
  Expected<Expr> updated(Expr a, Expr i, Expr j, Expr v) {
    if (!j) return c().tryUpdate(a, i, v);
    auto row = c().tryIndex(a, i);
    if (!row) return row;
    auto newRow = c().tryUpdate(*row, j, v);
    if (!newRow) return newRow;
    return c().tryUpdate(a, i, *newRow);
  }

  Expr toReal(Expr e) {
    // An int constant is folded into the real constant (exact up to 2^53).
    if (auto* k = e->as<Const>();
        k && e->type() == Type::integer() && std::abs(k->intValue()) <= (int64_t(1) << 53))
      return c().realConst(double(k->intValue()));
    if (e->type() == Type::integer()) return c().unary(UnOp::ToReal, e);
    if (e->type().isArray() && e->type().scalar == ScalarKind::Int) {
      std::vector<Expr> elems;
      for (int k = 0; k < e->type().length(); ++k)
        elems.push_back(toReal(elementAt(e, k)));
      Type elem = elems[0]->type(); // real, or real[K] for the rows of a matrix
      return c().arrayLit(elem, std::move(elems));
    }
    return e;
  }

  /// Applies `f` to a scalar, or to each element of an array (giving an array literal).
  template <typename F> Expected<Expr> elementwise(Expr a, F&& f) {
    if (!a->type().isArray()) return f(a);
    std::vector<Expr> elems;
    for (int k = 0; k < a->type().length(); ++k) {
      auto e = f(elementAt(a, k));
      if (!e) return e;
      elems.push_back(*e);
    }
    Type elem = elems.empty() ? a->type().element() : elems[0]->type();
    return c().tryArrayLit(elem, std::move(elems));
  }

  Expected<Expr> located(Expected<Expr> e, const SourceLoc& loc) {
    if (!e) return internal(loc, e.error().message);
    return e;
  }

  // ---- vectorised statements ----

  /// `observe(D(ps), ys)` with ys an array (`observed`), or `x ~ D(ps)` into a whole array `x`
  /// (`target`): the per-element statements, in a loop k = 0 .. N-1 over the array,
  ///   observe(D(ps[k]...), ys[k]);    x[k] ~ D(ps[k]...);
  /// where an array parameter is indexed and a scalar one shared (RealArray parameters, such as
  /// Categorical's probabilities, are shared whole). Array operands are bound once to `let`
  /// locals first. The draws have the addresses of the looped form written by hand, x[k]
  /// (after the enclosing loops' indices), so traces, log densities and gradients are the same.
  /// Over a matrix (ys or x a T[N][K]) the loops are nested, rows outside:
  ///   for i in 0..N { let ys_i = ys[i]; let p_i = p[i];         (matrix operands, once a row)
  ///                   for j in 0..K { observe(D(p_i[j], q[j], s), ys_i[j]); } }
  /// with a matrix parameter p taken elementwise, a row-length one q[K] by column (shared by
  /// the rows) and a scalar s shared; a draw fills a row variable in the inner loop, x_i[j] ~
  /// D(...) at address x[i][j] (the hand-written `x[i, j] ~` in loops i, j), and stores the row
  /// once, x = update(x, i, x_i).
  Status vectorised(const spec::Stmt& s, DistKind dist, std::vector<Expr> ps, Expr observed,
                    const Var* target, Scope& sc, Block& out) {
    const SourceLoc& loc = s.loc;
    const DistSignature& sig = chassis::signature(dist);
    const Type shape = observed ? observed->type() : target->type();
    const bool matrix = shape.element().isArray();
    const int n = shape.length();
    auto elementwise = [&](size_t i) {
      return ps[i]->type().isArray() && sig.paramTypes[i] != DistParamType::RealArray;
    };
    for (size_t i = 0; i < ps.size(); ++i)
      if (elementwise(i)) ps[i] = shared(ps[i], sc, out, loc, "vectorised");
    if (observed) observed = shared(observed, sc, out, loc, "vectorised");
    auto loopVar = [&](const char* axis) {
      return sc.fn->newVar(std::string(observed ? "observe" : s.name.c_str()) + axis + "@" +
                               std::to_string(loc.line) + ":" + std::to_string(loc.col) + "#" +
                               std::to_string(++tempCount_),
                           Type::integer(), VarRole::LoopIndex);
    };
    const Var* k = loopVar("");
    // Over a matrix: the row loop's body binds the matrix operands' rows, then the column loop.
    const Var* col = matrix ? loopVar(".col") : nullptr;
    Block rowBody;
    auto rowOf = [&](Expr m) -> Expr {
      const Var* r = sc.fn->newVar(std::string("row@") + std::to_string(loc.line) + ":" +
                                       std::to_string(loc.col) + "#" + std::to_string(++tempCount_),
                                   m->type().element(), VarRole::Local);
      rowBody.push_back(c().stmt<LetStmt>(loc, r, c().index(m, k)));
      return r;
    };
    std::vector<Expr> psk;
    for (size_t i = 0; i < ps.size(); ++i) {
      if (!elementwise(i))
        psk.push_back(ps[i]);
      else if (!matrix)
        psk.push_back(c().index(ps[i], k));
      else if (ps[i]->type().elementIsArray())
        psk.push_back(c().index(rowOf(ps[i]), col));
      else
        psk.push_back(c().index(ps[i], col)); // one per column, shared by the rows
    }
    const Var* elem = matrix ? col : k;
    Block body;
    const Type drawType = distResultType(dist);
    if (observed) {
      Expr val = c().index(matrix ? rowOf(observed) : observed, elem);
      if (val->type() == Type::integer() && drawType == Type::real())
        val = c().unary(UnOp::ToReal, val);
      if (val->type() != drawType)
        return internal(loc, "observing " + c().typeName(val->type()) + " from a " +
                                 c().typeName(drawType) + " distribution");
      body.push_back(c().stmt<ObserveStmt>(loc, dist, psk, val));
    } else {
      std::vector<Expr> address(sc.loopIndices.begin(), sc.loopIndices.end());
      address.push_back(k);
      if (matrix) address.push_back(col);
      int count = ++sc.sampleCounts[s.name];
      std::string addrName = count == 1 ? s.name : s.name + "#" + std::to_string(count);
      const Var* tmp = sc.fn->newVar(s.name + ".draw", drawType, VarRole::Random);
      body.push_back(c().stmt<SampleStmt>(loc, tmp, dist, psk, addrName, address));
      Expr val = tmp;
      const Type slotType = matrix ? target->type().element().element() : target->type().element();
      if (drawType == Type::integer() && slotType == Type::real())
        val = c().unary(UnOp::ToReal, tmp);
      else if (drawType != slotType)
        return internal(loc, "a " + c().typeName(drawType) + " draw into " +
                                 c().typeName(slotType));
      // Into the array, or (a matrix) into a row variable stored after the column loop, unless
      // a parameter reads the target (then each element is stored as it is drawn, as the
      // hand-written x[i, j] ~ is).
      const bool rowVar = matrix && std::none_of(psk.begin(), psk.end(), [&](Expr e) {
                            return mentions(e, target);
                          });
      if (matrix && !rowVar) {
        auto rhs = updated(target, k, col, val);
        if (!rhs) return internal(loc, rhs.error().message);
        body.push_back(c().stmt<AssignStmt>(loc, target, *rhs));
      }
      const Var* dst = target;
      if (rowVar) {
        dst = sc.fn->newVar(s.name + ".row@" + std::to_string(loc.line) + ":" +
                                std::to_string(loc.col) + "#" + std::to_string(++tempCount_),
                            target->type().element(), VarRole::Local);
        rowBody.push_back(c().stmt<AssignStmt>(loc, dst, c().index(target, k)));
      }
      if (!matrix || rowVar) {
        auto rhs = c().tryUpdate(dst, elem, val);
        if (!rhs) return internal(loc, rhs.error().message);
        body.push_back(c().stmt<AssignStmt>(loc, dst, *rhs));
      }
      if (rowVar) {
        const int cols = target->type().element().length();
        rowBody.push_back(c().stmt<ForStmt>(loc, col, 0, cols, std::move(body)));
        auto store = c().tryUpdate(target, k, dst);
        if (!store) return internal(loc, store.error().message);
        rowBody.push_back(c().stmt<AssignStmt>(loc, target, *store));
        out.push_back(c().stmt<ForStmt>(loc, k, 0, n, std::move(rowBody)));
        return Status::ok();
      }
    }
    if (matrix) {
      const int cols = shape.element().length();
      rowBody.push_back(c().stmt<ForStmt>(loc, col, 0, cols, std::move(body)));
      out.push_back(c().stmt<ForStmt>(loc, k, 0, n, std::move(rowBody)));
      return Status::ok();
    }
    out.push_back(c().stmt<ForStmt>(loc, k, 0, n, std::move(body)));
    return Status::ok();
  }

  /// Whether expression e reads variable v.
  static bool mentions(Expr e, const Var* v) {
    if (e == v) return true;
    for (Expr o : e->operands())
      if (mentions(o, v)) return true;
    return false;
  }

  /// `x ~ Flat(simplex)` / `x ~ Flat(ordered)` into a real array x of length n: Stan's
  /// constrained arrays with a flat prior on the constrained space, written as scalar flat priors
  /// whose bounds are the earlier elements, so that the sampler's transform of each scalar
  /// (symbolic/transforms.h) composes to Stan's transform of the array, Jacobian included:
  ///   ordered:  x[0] ~ Flat();  for k in 1..n { x[k] ~ Flat(lower = x[k-1]); }
  ///             x[k] = x[k-1] + exp(u[k]); log|J| = sum of u[k] (k >= 1): Stan's ordered.
  ///   simplex:  rest = 1.0;
  ///             for k in 0..n-1 { x[k] ~ Flat(lower = 0.0, upper = rest); rest = rest - x[k]; }
  ///             x[n-1] = rest;
  ///             stick-breaking, x[k] = rest_k sigmoid(u[k] - log(n-1-k)); log|J| = sum of
  ///             log(rest_k s_k (1 - s_k)) with s_k that sigmoid: Stan's simplex transform with
  ///             its centring offset (the draw's transformShift, read by NUTS only), so that
  ///             u = 0 is the uniform simplex, where Stan's initialisation is centred.
  /// The draws have the addresses of the vectorised draw, x[k] after the enclosing loops'
  /// indices; a simplex's last element is not a random choice but 1 minus the others.
  ///
  /// Into a matrix X : real[N, K], each row is constrained (Stan's array[N] simplex[K]): the row
  /// form `X[i] ~` (`row` is i) constrains row i, the whole form `X ~` every row in a loop over
  /// the rows. Each row is built in a row variable (`r = X[i]`, the constrained draws into r,
  /// `X[i] = r`), with the addresses of the hand-written `X[i, k] ~`: X[i][k] after the enclosing
  /// loops' indices other than i.
  Status constrainedArray(const spec::Stmt& s, spec::FlatShape shape, const Var* target, Expr row,
                          Scope& sc, Block& out) {
    const SourceLoc& loc = s.loc;
    const int count = ++sc.sampleCounts[s.name];
    const std::string addrName = count == 1 ? s.name : s.name + "#" + std::to_string(count);
    const std::string tag = "@" + std::to_string(loc.line) + ":" + std::to_string(loc.col) + "#" +
                            std::to_string(++tempCount_);
    std::vector<Expr> prefix;
    for (Expr li : sc.loopIndices)
      if (li != row) prefix.push_back(li);
    if (!target->type().elementIsArray()) {
      if (row) return internal(loc, "a constrained row of a one-dimensional array");
      return constrainedVector(s, shape, target, addrName, tag, prefix, sc, out);
    }
    // The rows of a matrix: row i built in a row variable, then stored.
    auto oneRow = [&](Expr i, Block& body) -> Status {
      const Var* r = sc.fn->newVar(s.name + ".row" + tag, target->type().element(), VarRole::Local);
      body.push_back(c().stmt<AssignStmt>(loc, r, c().index(target, i)));
      std::vector<Expr> address = prefix;
      address.push_back(i);
      Status st = constrainedVector(s, shape, r, addrName, tag, address, sc, body);
      if (!st) return st;
      auto store = c().tryUpdate(target, i, r);
      if (!store) return internal(loc, store.error().message);
      body.push_back(c().stmt<AssignStmt>(loc, target, *store));
      return Status::ok();
    };
    if (row) return oneRow(row, out);
    const Var* i = sc.fn->newVar(s.name + ".rows" + tag, Type::integer(), VarRole::LoopIndex);
    Block rows;
    Status st = oneRow(i, rows);
    if (!st) return st;
    out.push_back(c().stmt<ForStmt>(loc, i, 0, target->type().length(), std::move(rows)));
    return Status::ok();
  }

  /// The constrained draws into the one-dimensional real array `target` (constrainedArray), at
  /// addresses addrName[prefix..., k].
  Status constrainedVector(const spec::Stmt& s, spec::FlatShape shape, const Var* target,
                           const std::string& addrName, const std::string& tag,
                           const std::vector<Expr>& prefix, Scope& sc, Block& out) {
    const SourceLoc& loc = s.loc;
    const int n = target->type().length();
    // x[k] ~ dist(ps) at address x[..., k], stored into the array.
    auto draw = [&](Expr k, DistKind dist, std::vector<Expr> ps, Block& body,
                    Expr shift = nullptr) -> Status {
      std::vector<Expr> address = prefix;
      address.push_back(k);
      const Var* tmp = sc.fn->newVar(s.name + ".draw", Type::real(), VarRole::Random);
      body.push_back(
          c().stmt<SampleStmt>(loc, tmp, dist, std::move(ps), addrName, address, shift));
      auto rhs = c().tryUpdate(target, k, tmp);
      if (!rhs) return internal(loc, rhs.error().message);
      body.push_back(c().stmt<AssignStmt>(loc, target, *rhs));
      return Status::ok();
    };
    const Var* k = sc.fn->newVar(s.name + tag, Type::integer(), VarRole::LoopIndex);
    Block body;
    if (shape == spec::FlatShape::Ordered) {
      Status st = draw(c().intConst(0), DistKind::Flat, {}, out);
      if (!st) return st;
      Expr prev = c().index(target, c().binary(BinOp::Sub, k, c().intConst(1)));
      st = draw(k, DistKind::FlatLower, {prev}, body);
      if (!st) return st;
      out.push_back(c().stmt<ForStmt>(loc, k, 1, n, std::move(body)));
      return Status::ok();
    }
    const Var* rest = sc.fn->newVar(s.name + ".rest" + tag, Type::real(), VarRole::Local);
    out.push_back(c().stmt<AssignStmt>(loc, rest, c().realConst(1.0)));
    // Stan's centring offset log(1 / (n - 1 - k)) = -log(n - 1 - k) (n - 1 - k >= 1 here).
    Expr shift = c().unary(
        UnOp::Neg,
        log(c().unary(UnOp::ToReal, c().binary(BinOp::Sub, c().intConst(n - 1), k))));
    Status st = draw(k, DistKind::FlatInterval, {c().realConst(0.0), rest}, body, shift);
    if (!st) return st;
    body.push_back(
        c().stmt<AssignStmt>(loc, rest, c().binary(BinOp::Sub, rest, c().index(target, k))));
    out.push_back(c().stmt<ForStmt>(loc, k, 0, n - 1, std::move(body)));
    auto last = c().tryUpdate(target, c().intConst(n - 1), rest);
    if (!last) return internal(loc, last.error().message);
    out.push_back(c().stmt<AssignStmt>(loc, target, *last));
    return Status::ok();
  }

  // ---- builtins written with other operators (Stan's functions, lpdf) ----

  /// `e`, used several times by a desugared builtin, bound to a fresh `let` local so that every
  /// back end evaluates it once. Only where that is safe: in a module body, outside operands that
  /// are evaluated on some paths only (there, and in properties, the shared DAG node is used).
  Expr shared(Expr e, Scope& sc, Block& out, const SourceLoc& loc, const char* what) {
    if (!sc.fn || sc.conditional > 0 || e->as<Const>() || e->as<Var>()) return e;
    std::string name = std::string(what) + "@" + std::to_string(loc.line) + ":" +
                       std::to_string(loc.col) + "#" + std::to_string(++tempCount_);
    const Var* v = sc.fn->newVar(name, e->type(), VarRole::Local);
    out.push_back(c().stmt<LetStmt>(loc, v, e));
    return v;
  }

  /// The value of a numeric constant (a literal, its negation, its promotion), or nullopt.
  static std::optional<double> constNumber(Expr e) {
    if (auto* k = e->as<Const>(); k && e->type().isNumeric()) return k->asDouble();
    if (auto* b = e->as<Binary>()) {
      auto l = constNumber(b->lhs()), r = constNumber(b->rhs());
      if (!l || !r) return std::nullopt;
      switch (b->op()) {
      case BinOp::Add:
        return *l + *r;
      case BinOp::Sub:
        return *l - *r;
      case BinOp::Mul:
        return *l * *r;
      case BinOp::Div:
        if (*r == 0) return std::nullopt;
        return e->type() == Type::integer() ? std::trunc(*l / *r) : *l / *r;
      case BinOp::Mod:
        if (*r == 0) return std::nullopt;
        return std::fmod(*l, *r); // ints: the dividend's sign, as the language's %
      default:
        return std::nullopt;
      }
    }
    if (auto* u = e->as<Unary>(); u && (u->op() == UnOp::Neg || u->op() == UnOp::ToReal))
      if (auto v = constNumber(u->arg())) return u->op() == UnOp::Neg ? -*v : *v;
    return std::nullopt;
  }

  Expr R(double v) { return c().realConst(v); }
  Expr add(Expr a, Expr b) { return c().binary(BinOp::Add, a, b); }
  Expr sub(Expr a, Expr b) { return c().binary(BinOp::Sub, a, b); }
  Expr mul(Expr a, Expr b) { return c().binary(BinOp::Mul, a, b); }
  Expr div(Expr a, Expr b) { return c().binary(BinOp::Div, a, b); }
  Expr log(Expr a) { return c().unary(UnOp::Log, a); }
  Expr exp(Expr a) { return c().unary(UnOp::Exp, a); }
  Expr negInf() { return R(-std::numeric_limits<double>::infinity()); }

  /// `e` is -inf (a log density outside its support, e.g. lpdf's): below the lowest finite
  /// float64, a finite constant that the verifier's exact encoding can take.
  Expr isNegInf(Expr e) {
    return c().binary(BinOp::Lt, e, R(-std::numeric_limits<double>::max()));
  }

  /// log(exp(a) + exp(b)) = max(a, b) + log(1 + exp(-|a - b|)): exp never overflows, and the
  /// log's argument is in [1, 2]. If a (b) is -inf the result is b (a), without arithmetic on
  /// an infinity (which the interpreter refuses). a and b are real scalars, used several times
  /// (pass shared ones).
  Expr logSumExp2(Expr a, Expr b) {
    Expr d = c().unary(UnOp::Abs, sub(a, b));
    Expr finite =
        add(c().binary(BinOp::Max, a, b), log(add(R(1.0), exp(c().unary(UnOp::Neg, d)))));
    return c().select(isNegInf(a), b, c().select(isNegInf(b), a, finite));
  }

  /// x^n for an integer n, by repeated squaring (x used about 2 log2 |n| times: pass a shared
  /// x); 1/x^|n| for n < 0 (a division by zero at x = 0), 1 for n = 0.
  template <typename Share> Expr powInt(Expr x, int64_t n, Share&& share) {
    uint64_t m = n < 0 ? uint64_t(0) - uint64_t(n) : uint64_t(n);
    Expr result = nullptr, sq = share(x);
    while (m) {
      if (m & 1) result = result ? mul(result, sq) : sq;
      m >>= 1;
      if (m) sq = share(mul(sq, sq));
    }
    if (!result) return R(1.0);
    return n < 0 ? div(R(1.0), result) : result;
  }

  static bool isRealScalar(Expr e) { return e->type() == Type::real(); }

  Expected<Expr> stanBuiltin(const spec::Expr& e, std::vector<Expr> args, Scope& sc, Block& out) {
    const SourceLoc& loc = e.loc;
    switch (e.builtin) {
    case spec::Builtin::Square:
      if (args.size() != 1) break;
      return elementwise(args[0], [&](Expr x) -> Expected<Expr> {
        x = shared(x, sc, out, loc, "square");
        return c().tryBinary(BinOp::Mul, x, x);
      });
    case spec::Builtin::Pow: {
      if (args.size() != 2) break;
      Expr x = toReal(args[0]), y = toReal(args[1]);
      if (!isRealScalar(x) || !isRealScalar(y)) break;
      // An integral constant exponent: products (any x). Otherwise exp(y log x), x > 0.
      if (auto n = constNumber(y); n && std::nearbyint(*n) == *n && std::fabs(*n) <= kMaxPowInt)
        return powInt(x, int64_t(*n), [&](Expr v) { return shared(v, sc, out, loc, "pow"); });
      return exp(mul(y, log(x)));
    }
    case spec::Builtin::LogSumExp: {
      if (args.size() == 2) {
        Expr a = toReal(args[0]), b = toReal(args[1]);
        if (!isRealScalar(a) || !isRealScalar(b)) break;
        return logSumExp2(shared(a, sc, out, loc, "log_sum_exp"),
                          shared(b, sc, out, loc, "log_sum_exp"));
      }
      if (args.size() != 1) break;
      Expr a = toReal(args[0]);
      if (!a->type().isArray() || a->type().element() != Type::real()) break;
      // m + log(sum exp(a[i] - m)) with m = max a[i]: every exp is at most 1, one is 1.
      a = shared(a, sc, out, loc, "log_sum_exp");
      int n = a->type().length();
      Expr m = elementAt(a, 0);
      for (int k = 1; k < n; ++k)
        m = c().binary(BinOp::Max, m, elementAt(a, k));
      m = shared(m, sc, out, loc, "log_sum_exp.max");
      Expr total = nullptr;
      for (int k = 0; k < n; ++k) {
        Expr ak = elementAt(a, k);
        Expr t = c().select(isNegInf(ak), R(0.0), exp(sub(ak, m))); // exp(-inf) = 0
        total = total ? add(total, t) : t;
      }
      return c().select(isNegInf(m), m, add(m, log(total))); // all -inf: -inf
    }
    case spec::Builtin::LogMix: {
      // log(theta exp(l1) + (1 - theta) exp(l2)) = log_sum_exp(log theta + l1,
      // log(1 - theta) + l2): a domain error unless 0 < theta < 1.
      if (args.size() != 3) break;
      Expr t = toReal(args[0]), l1 = toReal(args[1]), l2 = toReal(args[2]);
      if (!isRealScalar(t) || !isRealScalar(l1) || !isRealScalar(l2)) break;
      t = shared(t, sc, out, loc, "log_mix");
      l1 = shared(l1, sc, out, loc, "log_mix");
      l2 = shared(l2, sc, out, loc, "log_mix");
      // A -inf component stays -inf (log theta + -inf would be arithmetic on an infinity).
      Expr a = shared(c().select(isNegInf(l1), l1, add(log(t), l1)), sc, out, loc, "log_mix");
      Expr b = shared(c().select(isNegInf(l2), l2, add(log(sub(R(1.0), t)), l2)), sc, out, loc,
                      "log_mix");
      return logSumExp2(a, b);
    }
    default:
      break;
    }
    return internal(loc, std::string("bad arguments of '") + spec::builtinName(e.builtin) + "'");
  }

  /// lpdf(D(params), x): D's log density (mass) at x, as symbolic/distributions.cpp's
  /// logDensity computes it for observe: -inf outside the support; log-gamma terms of constants
  /// (the checker requires those to be constants) folded here.
  Expected<Expr> lpdf(const spec::Expr& e, Scope& sc, Block& out) {
    if (e.args.size() != 2 || !e.args[0] || !e.args[1]) return internal(e.loc, "lpdf's arguments");
    const spec::Expr& d = *e.args[0];
    auto ps = distParams(d, sc, out);
    if (!ps) return ps.error();
    auto xv = expr(*e.args[1], sc, out);
    if (!xv) return xv.error();
    const SourceLoc& loc = e.loc;
    const std::vector<Expr> raw = *ps; // before shared(): constants stay visible
    const Expr rawX = *xv;
    std::vector<Expr> p;
    for (Expr q : *ps)
      p.push_back(shared(chassis::signature(d.dist).discrete ? q : toReal(q), sc, out, loc,
                         "lpdf"));
    Expr x = *xv;
    bool realDraw = distResultType(d.dist) == Type::real();
    if (realDraw) x = toReal(x);
    x = shared(x, sc, out, loc, "lpdf");
    for (size_t k = 0; k < p.size(); ++k)
      if (p[k]->type() == Type::integer() &&
          chassis::signature(d.dist).paramTypes[k] == DistParamType::Real)
        p[k] = toReal(p[k]);
    auto cmp = [&](BinOp op, Expr a, Expr b) { return c().binary(op, a, b); };
    auto sel = [&](Expr cond, Expr a, Expr b) { return c().select(cond, a, b); };
    auto constant = [&](Expr v, const char* what) -> Expected<double> {
      if (auto k = constNumber(v)) return *k;
      return Error(loc, std::string("lpdf: '") + what + "' must be a constant");
    };
    const double logSqrt2Pi = 0.5 * std::log(2 * std::numbers::pi);
    const double logPi = std::log(std::numbers::pi);
    auto sq = [&](Expr z) { return mul(z, z); };
    switch (d.dist) {
    case DistKind::Normal: {
      Expr z = div(sub(x, p[0]), p[1]);
      return sub(sub(mul(R(-0.5), sq(z)), log(p[1])), R(logSqrt2Pi));
    }
    case DistKind::HalfNormal: {
      Expr z = div(x, p[0]);
      Expr in = sub(sub(mul(R(-0.5), sq(z)), log(p[0])), R(logSqrt2Pi - std::log(2.0)));
      return sel(cmp(BinOp::Lt, x, R(0.0)), negInf(), in);
    }
    case DistKind::LogNormal: {
      Expr lx = log(x);
      Expr z = div(sub(lx, p[0]), p[1]);
      Expr in = sub(sub(sub(mul(R(-0.5), sq(z)), log(p[1])), R(logSqrt2Pi)), lx);
      return sel(cmp(BinOp::Le, x, R(0.0)), negInf(), in);
    }
    case DistKind::Cauchy: {
      Expr z = div(sub(x, p[0]), p[1]);
      return sub(sub(R(-logPi), log(p[1])), log(add(R(1.0), sq(z))));
    }
    case DistKind::HalfCauchy: {
      Expr z = div(x, p[0]);
      Expr in = sub(sub(R(std::log(2.0) - logPi), log(p[0])), log(add(R(1.0), sq(z))));
      return sel(cmp(BinOp::Lt, x, R(0.0)), negInf(), in);
    }
    case DistKind::StudentT: {
      auto nu = constant(raw[0], "nu");
      if (!nu) return nu.error();
      if (!(*nu > 0)) return Error(d.args[0]->loc, "lpdf(StudentT, ...): nu must be positive");
      Expr z = div(sub(x, p[1]), p[2]);
      double k = std::lgamma(0.5 * (*nu + 1)) - std::lgamma(0.5 * *nu) -
                 0.5 * std::log(*nu * std::numbers::pi);
      return sub(sub(R(k), log(p[2])),
                 mul(R(0.5 * (*nu + 1)), log(add(R(1.0), div(sq(z), R(*nu))))));
    }
    case DistKind::Exponential:
      return sel(cmp(BinOp::Lt, x, R(0.0)), negInf(), sub(log(p[0]), mul(p[0], x)));
    case DistKind::Uniform:
      return sel(c().binary(BinOp::Or, cmp(BinOp::Lt, x, p[0]), cmp(BinOp::Gt, x, p[1])), negInf(),
                 c().unary(UnOp::Neg, log(sub(p[1], p[0]))));
    case DistKind::Gamma: {
      auto a = constant(raw[0], "shape");
      if (!a) return a.error();
      if (!(*a > 0)) return Error(d.args[0]->loc, "lpdf(Gamma, ...): shape must be positive");
      Expr in = sub(add(sub(mul(R(*a), log(p[1])), R(std::lgamma(*a))), mul(R(*a - 1), log(x))),
                    mul(p[1], x));
      return sel(cmp(BinOp::Le, x, R(0.0)), negInf(), in);
    }
    case DistKind::Beta: {
      auto a = constant(raw[0], "a");
      if (!a) return a.error();
      auto b = constant(raw[1], "b");
      if (!b) return b.error();
      if (!(*a > 0) || !(*b > 0))
        return Error(d.args[0]->loc, "lpdf(Beta, ...): a and b must be positive");
      double logBeta = std::lgamma(*a) + std::lgamma(*b) - std::lgamma(*a + *b);
      Expr in = sub(add(mul(R(*a - 1), log(x)), mul(R(*b - 1), log(sub(R(1.0), x)))), R(logBeta));
      return sel(c().binary(BinOp::Or, cmp(BinOp::Le, x, R(0.0)), cmp(BinOp::Ge, x, R(1.0))),
                 negInf(), in);
    }
    // Flat priors: density 1 (log 0) on the closed support.
    case DistKind::Flat:
      return R(0.0);
    case DistKind::FlatLower:
      return sel(cmp(BinOp::Lt, x, p[0]), negInf(), R(0.0));
    case DistKind::FlatUpper:
      return sel(cmp(BinOp::Gt, x, p[0]), negInf(), R(0.0));
    case DistKind::FlatInterval:
      return sel(c().binary(BinOp::Or, cmp(BinOp::Lt, x, p[0]), cmp(BinOp::Gt, x, p[1])),
                 negInf(), R(0.0));
    case DistKind::Bernoulli: {
      Expr q = p[0];
      return sel(x, sel(cmp(BinOp::Gt, q, R(0.0)), log(q), negInf()),
                 sel(cmp(BinOp::Lt, q, R(1.0)), log(sub(R(1.0), q)), negInf()));
    }
    case DistKind::Categorical: {
      Expr probs = p[0];
      int n = probs->type().length();
      Expr inRange = c().binary(BinOp::And, cmp(BinOp::Ge, x, c().intConst(0)),
                                cmp(BinOp::Lt, x, c().intConst(n)));
      Expr pk = c().index(probs, x);
      Expr in = sel(cmp(BinOp::Gt, pk, R(0.0)),
                    sub(log(pk), log(c().unary(UnOp::Sum, probs))), negInf());
      return sel(inRange, in, negInf());
    }
    case DistKind::DiscreteUniform: {
      Expr out_ = c().binary(BinOp::Or, cmp(BinOp::Lt, x, p[0]), cmp(BinOp::Gt, x, p[1]));
      Expr width = toReal(add(sub(p[1], p[0]), c().intConst(1)));
      return sel(out_, negInf(), c().unary(UnOp::Neg, log(width)));
    }
    case DistKind::Geometric: {
      Expr q = p[0], k = toReal(x);
      Expr general = add(log(q), mul(k, log(sub(R(1.0), q))));
      Expr certain = sel(cmp(BinOp::Eq, x, c().intConst(0)), R(0.0), negInf());
      return sel(cmp(BinOp::Lt, x, c().intConst(0)), negInf(),
                 sel(cmp(BinOp::Eq, q, R(1.0)), certain, general));
    }
    case DistKind::Poisson: {
      auto k = constant(rawX, "x");
      if (!k) return k.error();
      if (*k < 0) return negInf();
      return sub(sub(mul(R(*k), log(p[0])), p[0]), R(std::lgamma(*k + 1)));
    }
    case DistKind::Binomial: {
      auto n = constant(raw[0], "n");
      if (!n) return n.error();
      auto k = constant(rawX, "x");
      if (!k) return k.error();
      if (*k < 0 || *k > *n) return negInf();
      double logChoose =
          *k == 0 || *k == *n
              ? 0.0
              : std::lgamma(*n + 1) - std::lgamma(*k + 1) - std::lgamma(*n - *k + 1);
      Expr q = p[1];
      Expr general = add(add(R(logChoose), mul(R(*k), log(q))), mul(R(*n - *k), log(sub(R(1.0), q))));
      return sel(cmp(BinOp::Eq, q, R(0.0)), *k == 0 ? R(0.0) : negInf(),
                 sel(cmp(BinOp::Eq, q, R(1.0)), *k == *n ? R(0.0) : negInf(), general));
    }
    }
    return internal(loc, "lpdf of an unknown distribution");
  }

  Expected<Expr> builtin(const spec::Expr& e, std::vector<Expr> args, Scope& sc, Block& out) {
    auto un = [&](UnOp op, Expr a) { return c().tryUnary(op, a); };
    auto need = [&](size_t n) -> Status {
      if (args.size() != n) return internal(e.loc, "wrong number of builtin arguments");
      return Status::ok();
    };
    switch (e.builtin) {
    case spec::Builtin::Min:
    case spec::Builtin::Max: {
      if (Status s = need(2); !s) return s.error();
      BinOp op = e.builtin == spec::Builtin::Min ? BinOp::Min : BinOp::Max;
      Expr a = args[0], b = args[1];
      if (a->type().scalar != b->type().scalar) {
        a = toReal(a);
        b = toReal(b);
      }
      if (!a->type().isArray()) return c().tryBinary(op, a, b);
      if (a->type() != b->type()) return internal(e.loc, "min/max of arrays of different types");
      std::vector<Expr> elems;
      for (int k = 0; k < a->type().length(); ++k) {
        auto r = c().tryBinary(op, elementAt(a, k), elementAt(b, k));
        if (!r) return r;
        elems.push_back(*r);
      }
      return c().tryArrayLit(a->type().element(), std::move(elems));
    }
    case spec::Builtin::Square:
    case spec::Builtin::Pow:
    case spec::Builtin::LogSumExp:
    case spec::Builtin::LogMix:
      return stanBuiltin(e, std::move(args), sc, out);
    case spec::Builtin::Lpdf:
      return internal(e.loc, "lpdf lowered as a plain builtin");
    case spec::Builtin::Abs:
    case spec::Builtin::Fabs:
    case spec::Builtin::Relu: {
      if (Status s = need(1); !s) return s.error();
      UnOp op = e.builtin == spec::Builtin::Relu ? UnOp::Relu : UnOp::Abs;
      return elementwise(args[0], [&](Expr x) { return un(op, x); });
    }
    case spec::Builtin::Exp:
    case spec::Builtin::Log:
    case spec::Builtin::Sqrt:
    case spec::Builtin::Sigmoid:
    case spec::Builtin::Tanh: {
      if (Status s = need(1); !s) return s.error();
      UnOp op = e.builtin == spec::Builtin::Exp       ? UnOp::Exp
                : e.builtin == spec::Builtin::Log     ? UnOp::Log
                : e.builtin == spec::Builtin::Sqrt    ? UnOp::Sqrt
                : e.builtin == spec::Builtin::Sigmoid ? UnOp::Sigmoid
                                                      : UnOp::Tanh;
      return elementwise(toReal(args[0]), [&](Expr x) { return un(op, x); });
    }
    case spec::Builtin::Sum:
      if (Status s = need(1); !s) return s.error();
      return un(UnOp::Sum, args[0]);
    case spec::Builtin::Argmax:
      if (Status s = need(1); !s) return s.error();
      return un(UnOp::Argmax, args[0]);
    case spec::Builtin::Dot: {
      if (Status s = need(2); !s) return s.error();
      Expr a = args[0], b = args[1];
      if (a->type().scalar != b->type().scalar) {
        a = toReal(a);
        b = toReal(b);
      }
      return c().tryBinary(BinOp::Dot, a, b);
    }
    }
    return internal(e.loc, "an unknown builtin");
  }

  Expected<Expr> call(const spec::Expr& e, Scope& sc, Block& out) {
    auto r = callOutputs(e, sc, out);
    if (!r) return r.error();
    if (e.outputIndex < 0 || size_t(e.outputIndex) >= r->size())
      return internal(e.loc, "a call without an output");
    return (*r)[size_t(e.outputIndex)];
  }

  /// Every output of the call `e` (a random callee is called once, at one site).
  Expected<std::vector<Expr>> callOutputs(const spec::Expr& e, Scope& sc, Block& out) {
    auto it = fns_.find(e.callee);
    if (it == fns_.end()) return internal(e.loc, "a call of '" + e.name + "' before its lowering");
    const Function& f = *it->second;
    std::vector<Expr> args;
    for (auto& a : e.args) {
      auto x = expr(*a, sc, out);
      if (!x) return x.error();
      args.push_back(*x);
    }
    if (!f.isRandom()) {
      auto call = c().tryCall(f, std::move(args));
      if (!call) return internal(e.loc, call.error().message);
      std::vector<Expr> results;
      for (size_t k = 0; k < f.outputs().size(); ++k) {
        auto r = located(c().tryCallResult(*call, int(k)), e.loc);
        if (!r) return r.error();
        results.push_back(*r);
      }
      return results;
    }
    if (sc.conditional > 0)
      return Error(e.loc, "a call of random module '" + f.name() +
                              "' inside a conditional expression (a branch of if-then-else, or "
                              "the right side of &&, || or =>) is not supported: its random "
                              "choices would be made on every path; call it in an if statement");
    if (!sc.fn)
      return Error(e.loc, "property '" + sc.propertyName + "' calls random module '" + f.name() +
                              "' inside forall/exists; use always[" + f.name() + "], P[" +
                              f.name() + "] or E[" + f.name() + "]");
    // A random callee: a call statement at a named site, with result temporaries.
    int n = ++sc.siteCounts[f.name()];
    std::string site = n == 1 ? f.name() : f.name() + "#" + std::to_string(n);
    std::vector<const Var*> results;
    for (const Var* o : f.outputs())
      results.push_back(sc.fn->newVar(site + "." + o->name(), o->type(), VarRole::Local));
    // Argument types are checked here as Context::tryCall would.
    if (args.size() != f.inputs().size()) return internal(e.loc, "wrong number of arguments");
    for (size_t k = 0; k < args.size(); ++k)
      if (args[k]->type() != f.inputs()[k].var->type())
        return internal(e.loc, "argument type mismatch calling '" + f.name() + "'");
    out.push_back(c().stmt<CallStmt>(e.loc, results, &f, std::move(args), site, sc.loopIndices));
    return std::vector<Expr>(results.begin(), results.end());
  }

  Expected<Expr> expr(const spec::Expr& e, Scope& sc, Block& out) {
    std::vector<Expr> ops;
    // Operands evaluated only on some paths: the branches of if-then-else, the right operand
    // of && || =>. A random call may not be hoisted out of them (see call()).
    auto isConditional = [&](size_t k) {
      if (e.kind == ExprKind::Cond) return k >= 1;
      return e.kind == ExprKind::Binary && k == 1 &&
             (e.binaryOp == spec::BinaryOp::And || e.binaryOp == spec::BinaryOp::Or ||
              e.binaryOp == spec::BinaryOp::Implies);
    };
    auto lowerArgs = [&]() -> Status {
      for (size_t k = 0; k < e.args.size(); ++k) {
        if (!e.args[k]) return internal(e.loc, "a missing operand");
        bool cond = isConditional(k);
        sc.conditional += cond;
        auto x = expr(*e.args[k], sc, out);
        sc.conditional -= cond;
        if (!x) return x.error();
        ops.push_back(*x);
      }
      return Status::ok();
    };
    switch (e.kind) {
    case ExprKind::IntLit:
      return c().intConst(e.intValue);
    case ExprKind::RealLit:
      return c().realConst(e.realValue);
    case ExprKind::BoolLit:
      return c().boolConst(e.boolValue);
    case ExprKind::EnumConst: {
      auto it = enumIds_.find(e.enumDecl);
      if (it == enumIds_.end() || e.intValue < 0 ||
          size_t(e.intValue) >= e.enumDecl->constants.size())
        return internal(e.loc, "an unknown enum constant");
      return c().enumConst(it->second, e.intValue);
    }
    case ExprKind::VarRef: {
      auto it = sc.vars.find(e.var);
      if (it == sc.vars.end()) return internal(e.loc, "an unbound variable '" + e.name + "'");
      return Expr(it->second);
    }
    case ExprKind::Index: {
      if (Status s = lowerArgs(); !s) return s.error();
      // x[i, j] of a matrix (the IR's T[N][K]) is x[i][j]: each index is checked against its
      // own length (N, then K) by every back end, as a one-dimensional index is.
      auto row = located(c().tryIndex(ops[0], ops[1]), e.loc);
      if (!row || ops.size() < 3) return row;
      return located(c().tryIndex(*row, ops[2]), e.loc);
    }
    case ExprKind::ArrayLit: {
      if (Status s = lowerArgs(); !s) return s.error();
      if (ops.empty()) return internal(e.loc, "an empty array literal");
      return located(c().tryArrayLit(ops[0]->type(), ops), e.loc);
    }
    case ExprKind::Unary:
      if (Status s = lowerArgs(); !s) return s.error();
      return located(c().tryUnary(e.unaryOp == spec::UnaryOp::Neg ? UnOp::Neg : UnOp::Not, ops[0]),
                     e.loc);
    case ExprKind::Binary: {
      if (Status s = lowerArgs(); !s) return s.error();
      static const BinOp map[] = {BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div,    BinOp::Mod,
                                  BinOp::Lt,  BinOp::Le,  BinOp::Gt,  BinOp::Ge,     BinOp::Eq,
                                  BinOp::Ne,  BinOp::And, BinOp::Or,  BinOp::Implies};
      BinOp op = map[int(e.binaryOp)];
      Expr a = ops[0], b = ops[1];
      if (op == BinOp::Mul && a->type().dims.size() == 2) {
        // The matrix-vector product: one dot product per row (the checker typed it).
        std::vector<Expr> rows;
        for (int i = 0; i < a->type().length(); ++i) {
          auto r = located(c().tryBinary(BinOp::Dot, elementAt(a, i), b), e.loc);
          if (!r) return r;
          rows.push_back(*r);
        }
        const Type rowType = rows[0]->type();
        return located(c().tryArrayLit(rowType, std::move(rows)), e.loc);
      }
      // `/` is real division (the checker promotes; promote here too if it did not).
      if (op == BinOp::Div ||
          (a->type().isNumeric() && b->type().isNumeric() && a->type() != b->type())) {
        a = toReal(a);
        b = toReal(b);
      }
      return located(c().tryBinary(op, a, b), e.loc);
    }
    case ExprKind::Cond:
      if (Status s = lowerArgs(); !s) return s.error();
      return located(c().trySelect(ops[0], ops[1], ops[2]), e.loc);
    case ExprKind::Promote:
      if (Status s = lowerArgs(); !s) return s.error();
      return toReal(ops[0]);
    case ExprKind::Builtin:
      if (e.builtin == spec::Builtin::Lpdf) return lpdf(e, sc, out);
      if (Status s = lowerArgs(); !s) return s.error();
      return located(builtin(e, std::move(ops), sc, out), e.loc);
    case ExprKind::Call:
      return call(e, sc, out);
    case ExprKind::Dist:
      return internal(e.loc, "a distribution used as a value");
    case ExprKind::Quant:
    case ExprKind::Always:
    case ExprKind::Prob:
    case ExprKind::Expect:
      return Error(e.loc, "quantifiers, always[], P[] and E[] are supported only at the top of a "
                          "property (P[] and E[] compared with a constant)");
    case ExprKind::Name:
    case ExprKind::Member:
      return internal(e.loc, "an unresolved name '" + e.name + "'");
    }
    return internal(e.loc, "an unknown expression");
  }

  // ---- properties ----

  /// The value of a constant numeric expression (a literal, possibly negated or promoted).
  std::optional<double> constant(const spec::Expr& e) {
    switch (e.kind) {
    case ExprKind::IntLit:
      return double(e.intValue);
    case ExprKind::RealLit:
      return e.realValue;
    case ExprKind::Promote:
      return e.args.empty() ? std::nullopt : constant(*e.args[0]);
    case ExprKind::Unary:
      if (e.unaryOp == spec::UnaryOp::Neg && !e.args.empty())
        if (auto v = constant(*e.args[0])) return -*v;
      return std::nullopt;
    default:
      return std::nullopt;
    }
  }

  Status lowerProperty(const spec::PropertyDecl& d) {
    where_ = d.loc;
    Property p;
    p.name = d.name;
    p.loc = d.loc;
    p.doc = d.doc;
    if (!d.body) return internal(d.loc, "a property without a body");
    const spec::Expr* body = d.body.get();
    Scope sc;
    sc.propertyName = d.name;
    Block scratch; // property bodies have no statements; stays empty

    auto moduleScope = [&](const spec::Expr& e) -> Expected<const Function*> {
      auto it = fns_.find(e.callee);
      if (it == fns_.end()) return internal(e.loc, "an unknown module");
      sc.vars = varsOf_[e.callee];
      return it->second;
    };
    auto finish = [&](Expected<Expr> b) -> Status {
      if (!b) return b.error();
      if (!scratch.empty())
        return Error(d.loc, "property '" + d.name +
                                "': a call of a random module inside "
                                "always/P/E is not supported");
      p.body = *b;
      prog_.properties.push_back(std::move(p));
      return Status::ok();
    };

    if (body->kind == ExprKind::Always) {
      auto m = moduleScope(*body);
      if (!m) return m.error();
      p.kind = PropertyKind::Always;
      p.module = *m;
      return finish(expr(*body->args[0], sc, scratch));
    }
    if (body->kind == ExprKind::Binary &&
        (body->binaryOp == spec::BinaryOp::Lt || body->binaryOp == spec::BinaryOp::Le ||
         body->binaryOp == spec::BinaryOp::Gt || body->binaryOp == spec::BinaryOp::Ge)) {
      const spec::Expr* l = body->args[0].get();
      const spec::Expr* r = body->args[1].get();
      auto isPE = [](const spec::Expr* x) {
        return x->kind == ExprKind::Prob || x->kind == ExprKind::Expect;
      };
      if (isPE(l) || isPE(r)) {
        static const BinOp cmps[] = {BinOp::Lt, BinOp::Le, BinOp::Gt, BinOp::Ge};
        static const BinOp flipped[] = {BinOp::Gt, BinOp::Ge, BinOp::Lt, BinOp::Le};
        int k = int(body->binaryOp) - int(spec::BinaryOp::Lt);
        p.cmp = cmps[k];
        if (!isPE(l)) {
          std::swap(l, r);
          p.cmp = flipped[k];
        }
        auto bound = constant(*r);
        if (!bound) return Error(r->loc, "the bound of P[...] or E[...] must be a constant number");
        p.bound = *bound;
        auto m = moduleScope(*l);
        if (!m) return m.error();
        p.module = *m;
        p.kind = l->kind == ExprKind::Prob ? PropertyKind::Probability : PropertyKind::Expectation;
        if (l->kind == ExprKind::Prob && l->args.size() > 1 && l->args[1]) {
          auto g = expr(*l->args[1], sc, scratch);
          if (!g) return g.error();
          p.given = *g;
        }
        return finish(expr(*l->args[0], sc, scratch));
      }
    }
    // A forall / exists prefix (nested quantifiers, outermost first), else a closed formula.
    p.kind = PropertyKind::Forall;
    bool first = true;
    while (body->kind == ExprKind::Quant) {
      if (first) p.kind = body->isExists ? PropertyKind::Exists : PropertyKind::Forall;
      first = false;
      for (const spec::VarDecl* v : body->quantVars) {
        auto t = type(v->type, v->loc);
        if (!t) return t.error();
        double lo = 0, hi = 1;
        if (t->is(ScalarKind::Enum)) {
          hi = double(c().enums()[t->enumId].constants.size()) - 1;
        } else if (t->isNumeric()) {
          if (!v->range) return Error(v->loc, "quantified variable '" + v->name + "' has no range");
          lo = v->range->lo;
          hi = v->range->hi;
        } else if (!t->is(ScalarKind::Bool)) {
          return Error(v->loc, "quantified variable '" + v->name + "' of type " + c().typeName(*t) +
                                   " is not supported");
        }
        sc.vars[v] = p.addVar(c(), v->name, *t, lo, hi, body->isExists);
      }
      if (body->args.empty() || !body->args[0]) return internal(body->loc, "an empty quantifier");
      body = body->args[0].get();
    }
    return finish(expr(*body, sc, scratch));
  }

  const spec::Program& ast_;
  const LowerOptions& opt_;
  Program prog_;
  SourceLoc where_; // the declaration or statement being lowered
  std::unordered_map<const spec::EnumDecl*, int> enumIds_;
  std::unordered_map<const spec::CallableDecl*, const Function*> fns_;
  std::unordered_map<const spec::CallableDecl*, VarMap> varsOf_;
  int tempCount_ = 0; // numbers the locals made by shared()
  /// pow(x, n) with an integral constant |n| up to this is written as products.
  static constexpr double kMaxPowInt = 1024;
};

} // namespace

Expected<Program> lower(const spec::Program& ast, const LowerOptions& options) {
  return Lowerer(ast, options).run();
}

Type lowerType(const spec::Type& t, const spec::Program& ast) {
  auto scalar = [&](spec::TypeKind k) {
    switch (k) {
    case spec::TypeKind::Bool:
      return Type::boolean();
    case spec::TypeKind::Int:
      return Type::integer();
    case spec::TypeKind::Enum: {
      for (size_t i = 0; i < ast.enums.size(); ++i)
        if (ast.enums[i] == t.enumDecl) return Type::enumeration(int(i));
      return Type::enumeration(-1);
    }
    default:
      return Type::real();
    }
  };
  if (t.isMatrix())
    return Type::array(Type::array(scalar(t.elem), int(t.cols)), int(t.rows()));
  if (t.isArray()) return Type::array(scalar(t.elem), int(t.length));
  return scalar(t.kind);
}

} // namespace chassis::ir
