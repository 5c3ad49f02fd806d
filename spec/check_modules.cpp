// Module bodies (BodyChecker, spec/check_body.h): scopes and name resolution, the statements'
// rules, and loop bounds (constants or sizes from the data) under the iteration cap; the output
// assignment rule they drive is in check_assignment.cpp. Entry: checkModuleBodies.
#include "spec/check_body.h"

#include "spec/ast_printer.h"
#include "spec/checker.h"

#include <string>
#include <vector>

namespace chassis::spec::check {

namespace {

std::string str128(__int128 v) { // decimal of a non-negative 128-bit count
  std::string r;
  do {
    r.insert(r.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v > 0);
  return r;
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string r;
  for (const std::string& n : names)
    r += (r.empty() ? "" : ", ") + n;
  return r;
}

} // namespace

void checkModuleBodies(CheckContext& ctx) {
  BodyChecker bodies(ctx);
  for (CallableDecl* c : ctx.callables)
    if (c->kind == DeclKind::Module) bodies.checkModule(static_cast<ModuleDecl&>(*c));
}

VarDecl* BodyChecker::lookupVar(const std::string& name) const {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
    auto f = it->find(name);
    if (f != it->end()) return f->second;
  }
  return nullptr;
}

void BodyChecker::declare(VarDecl* v) {
  if (VarDecl* old = lookupVar(v->name))
    ctx_.error(v->loc, "redefinition of '" + v->name + "' (previously declared at line " +
                           std::to_string(old->loc.line) + ")");
  scopes_.back()[v->name] = v;
}

void BodyChecker::undefined(const std::string& name, const SourceLoc& l) {
  if (!reportedUndefined_.insert(name).second) return;
  if (!ctx_.suggestionWanted(name)) {
    ctx_.error(l, "undefined name '" + name + "'");
    return;
  }
  std::vector<std::string_view> candidates;
  for (auto& scope : scopes_)
    for (auto& [n, v] : scope)
      candidates.push_back(n);
  for (auto& [n, consts] : ctx_.bareConstants)
    if (consts.size() == 1) candidates.push_back(n);
  ctx_.error(l, "undefined name '" + name + "'" + ctx_.didYouMean(name, candidates));
}

void BodyChecker::checkModule(ModuleDecl& m) {
  mod_ = &m;
  sizeOwner_ = &m;
  scopes_.assign(1, {});
  reportedUndefined_.clear();
  reportedRead_.clear();
  badTarget_ = false;
  ctx_.suggestions = 0;
  states_.assign(m.outputs.size(), AState::No);
  // Duplicate parameters (reported by checkSignature) must cause no further errors: among
  // inputs or among outputs the first declaration wins and a duplicate output counts as
  // assigned; an output named like an input wins over it (assignments target outputs).
  for (VarDecl* v : m.inputs)
    scopes_.back().emplace(v->name, v);
  for (VarDecl* v : m.outputs) {
    auto [it, fresh] = scopes_.back().emplace(v->name, v);
    if (fresh) continue;
    if (it->second->kind == VarKind::Input)
      it->second = v;
    else
      states_[v->index] = AState::Yes;
  }
  for (auto& s : m.body)
    stmt(*s);
  reportUnassignedOutputs();
  mod_ = nullptr;
  sizeOwner_ = nullptr;
  scopes_.clear();
}

void BodyChecker::block(std::vector<StmtPtr>& body) {
  scopes_.emplace_back();
  for (auto& s : body)
    stmt(*s);
  scopes_.pop_back();
}

// The target of an assignment / draw: its type (the element's if indexed), or Error.
Type BodyChecker::target(Stmt& s, VarDecl* v) {
  s.var = v;
  Type elem = targetIndices(s, *v);
  if (v->kind != VarKind::Output && v->kind != VarKind::Local) {
    ctx_.error(s.nameLoc,
               std::string("cannot assign to ") + kindWord(v->kind) + " '" + v->name + "'");
    return Type::error();
  }
  if (s.index && !v->type.isArray()) {
    if (!v->type.isError())
      ctx_.error(s.nameLoc, "'" + v->name + "' is not an array (it is " + v->type.str() + ")");
    if (v->kind == VarKind::Output) states_[v->index] = AState::Yes;
    return Type::error();
  }
  if (v->kind == VarKind::Output) assignOutput(v, s);
  return elem;
}

// Checks the index expression of `name[idx]` against the array type `arr`.
void BodyChecker::index(ExprPtr& idx, const Type& arr, const std::string& name, int which) {
  Type t = expr(idx);
  if (t.isError()) return;
  static const char* const words[] = {"", "row ", "column "};
  if (t.kind != TypeKind::Int) {
    ctx_.error(idx->loc, std::string("array ") + words[which] + "index must be int, got " + t.str());
    return;
  }
  if (!arr.isArray()) return;
  const int64_t n = which == 1 ? arr.rows() : which == 2 ? arr.cols : arr.length;
  std::string why;
  if (auto c = constEval(*idx, why); c && (c->i < 0 || c->i >= n))
    ctx_.error(idx->loc, std::string(which ? words[which] : "") + "index " +
                             std::to_string(c->i) + " is out of bounds for '" + name +
                             "' of type " + arr.str() +
                             (which == 1   ? " (" + std::to_string(n) + " rows)"
                              : which == 2 ? " (" + std::to_string(n) + " columns)"
                                           : std::string()));
}

Type BodyChecker::targetIndices(Stmt& s, const VarDecl& v) {
  if (!s.index) return v.type;
  if (v.type.isMatrix()) {
    index(s.index, v.type, v.name, 1);
    if (!s.index2) return v.type.row();
    index(s.index2, v.type, v.name, 2);
    return v.type.element();
  }
  index(s.index, v.type, v.name);
  if (s.index2) {
    expr(s.index2);
    if (v.type.isVector()) // a scalar gets "not an array" from target()
      ctx_.error(s.index2->loc, "'" + v.name + "' has one dimension (it is " + v.type.str() +
                                    "): index it as '" + v.name + "[i]'");
    return Type::error();
  }
  return v.type.element();
}

void BodyChecker::stmt(Stmt& s) {
  switch (s.kind) {
  case StmtKind::Let: {
    Type t = expr(s.value);
    VarDecl* v = mod_->newVar(s.name, s.nameLoc, VarKind::Let);
    v->typeExpr = s.typeExpr;
    v->topLevel = topLevel();
    if (s.typeExpr) {
      Type want = resolveType(ctx_, *s.typeExpr, sizeOwner_);
      if (!want.isError() && !coerce(s.value, want))
        ctx_.error(s.value->loc, "cannot initialise '" + s.name + "' of type " + want.str() +
                                     " with a value of type " + t.str());
      t = want;
    }
    if (t.kind == TypeKind::Distribution) t = Type::error();
    v->type = t;
    s.var = v;
    declare(v);
    return;
  }
  case StmtKind::LetTuple:
    letTuple(s);
    return;
  case StmtKind::Var: {
    Type want = resolveType(ctx_, *s.typeExpr, sizeOwner_);
    if (s.value) {
      Type t = expr(s.value);
      if (!want.isError() && !coerce(s.value, want))
        ctx_.error(s.value->loc, "cannot initialise '" + s.name + "' of type " + want.str() +
                                     " with a value of type " + t.str());
    }
    VarDecl* v = mod_->newVar(s.name, s.nameLoc, VarKind::Local);
    v->typeExpr = s.typeExpr;
    v->type = want;
    v->topLevel = topLevel();
    s.var = v;
    declare(v);
    return;
  }
  case StmtKind::Assign: {
    Type t = expr(s.value);
    VarDecl* v = lookupVar(s.name);
    if (!v) {
      undefined(s.name, s.nameLoc);
      badTarget_ = true;
      if (s.index) expr(s.index);
      if (s.index2) expr(s.index2);
      return;
    }
    Type want = target(s, v);
    if (!want.isError() && !coerce(s.value, want))
      ctx_.error(s.value->loc, "cannot assign a value of type " + t.str() + " to '" + s.name +
                                   (s.index ? "[...]" : "") + "' of type " + want.str());
    return;
  }
  case StmtKind::Sample: {
    VarDecl* v = lookupVar(s.name);
    // A draw into a whole array output or local is vectorised: one draw per element (§5.6),
    // also for a matrix (every element, row by row: §5.9).
    const bool whole = v && !s.index && v->type.isArray();
    const int64_t n = whole && v->kind != VarKind::Input ? v->type.length : 0;
    const int64_t cols = n > 0 ? v->type.cols : 0;
    const bool shaped = s.value->flatShape != FlatShape::None;
    // A whole input array under Flat(simplex) gets the input's error below, not the prior's.
    const bool shapedInput = whole && v->kind == VarKind::Input && shaped;
    // `X[i] ~ Flat(simplex);`: row i of a matrix constrained (Stan's array[N] simplex[K]).
    const bool shapedRow = shaped && v && s.index && !s.index2 && v->type.isMatrix();
    Type dt = dist(s.value, "'~'",
                   shapedInput ? v->type.length
                   : shapedRow ? v->type.cols
                               : n,
                   cols);
    if (n > 0 && !dt.isError())
      dt = cols > 0 ? Type::matrix(dt, v->type.rows(), cols) : Type::array(dt, n);
    if (shapedRow && !dt.isError()) dt = Type::array(dt, v->type.cols);
    if (!v) {
      if (s.index) {
        undefined(s.name, s.nameLoc);
        badTarget_ = true;
        expr(s.index);
        if (s.index2) expr(s.index2);
        return;
      }
      if (!loops_.empty())
        ctx_.error(s.nameLoc, "random choice '" + s.name +
                                  "' is drawn inside a loop, so its "
                                  "address would repeat; declare an array ('var " +
                                  s.name + ": real[N];') and draw '" + s.name + "[i] ~ ...'");
      v = mod_->newVar(s.name, s.nameLoc, VarKind::Random);
      v->type = dt;
      v->topLevel = topLevel();
      s.var = v;
      declare(v);
      return;
    }
    if (v->kind == VarKind::Input) {
      // A Stan habit: `y[t] ~ Normal(...)` on data. Here an input is a value, not a choice.
      std::string d = s.value->kind == ExprKind::Dist ? s.value->name : "D";
      s.var = v;
      std::string idx;
      if (s.index) {
        targetIndices(s, *v);
        auto shown = [](const Expr& i) {
          bool simple = i.kind == ExprKind::VarRef || i.kind == ExprKind::IntLit;
          return simple ? printExpr(i) : std::string("...");
        };
        idx = "[" + shown(*s.index) + (s.index2 ? ", " + shown(*s.index2) : "") + "]";
      }
      ctx_.error(s.nameLoc, "cannot draw into input '" + s.name +
                                "': inputs are data, not random "
                                "choices; to condition on the data write 'observe(" +
                                d + "(...), " + s.name + idx + ");'");
      return;
    }
    Type want = target(s, v);
    if (!want.isError() && !dt.isError() && want != dt)
      ctx_.error(s.nameLoc, "cannot draw a value of type " + dt.str() + " (from '" + s.value->name +
                                "') into '" + s.name + (s.index ? "[...]" : "") + "' of type " +
                                want.str());
    return;
  }
  case StmtKind::Observe: {
    Type t = expr(s.value2);
    // An array of observations is vectorised: one observation per element (§5.6), also for a
    // matrix (every element, row by row: §5.9).
    const int64_t n = t.isArray() ? t.length : 0;
    Type dt = dist(s.value, "'observe'", n, t.isArray() ? t.cols : 0);
    if (n > 0 && !dt.isError()) {
      const Type want = t.isMatrix() ? Type::matrix(dt, t.rows(), t.cols) : Type::array(dt, n);
      if (!coerce(s.value2, want))
        ctx_.error(s.value2->loc, "observed array must be " + want.str() + " (draws of '" +
                                      s.value->name + "'), got " + t.str());
      return;
    }
    if (!dt.isError() && !coerce(s.value2, dt))
      ctx_.error(s.value2->loc, "observed value must be " + dt.str() + " (a draw of '" +
                                    s.value->name + "'), got " + t.str());
    return;
  }
  case StmtKind::Condition:
  case StmtKind::Assert: {
    Type t = expr(s.value);
    if (!t.isError() && t.kind != TypeKind::Bool)
      ctx_.error(s.value->loc, std::string(s.kind == StmtKind::Assert ? "assert" : "condition") +
                                   " needs a bool, got " + t.str());
    return;
  }
  case StmtKind::Factor: {
    Type t = expr(s.value);
    if (!t.isError() && !coerce(s.value, Type::real()))
      ctx_.error(s.value->loc, "factor needs a real log-weight, got " + t.str());
    return;
  }
  case StmtKind::If: {
    Type t = expr(s.value);
    if (!t.isError() && t.kind != TypeKind::Bool)
      ctx_.error(s.value->loc, "condition of 'if' must be bool, got " + t.str());
    auto before = states_;
    block(s.body);
    auto thenStates = states_;
    states_ = before;
    block(s.elseBody);
    joinBranches(thenStates);
    return;
  }
  case StmtKind::For: {
    bool okLo = loopBound(*s.lo, s.from); // both bounds are checked, for their diagnostics
    bool okHi = loopBound(*s.hi, s.to);
    bool okBounds = okLo && okHi;
    if (!okBounds) s.from = s.to = 0;
    // Bounded unrolling: the back ends run or unroll every iteration, so the trip count of a
    // loop, and the product of the trip counts of the loops it is nested in, are capped at
    // kMaxLoopIterations (computed in 128 bits: to - from may exceed int64). A loop over the
    // cap is reported at its 'for' and then treated as empty, so later passes stay bounded.
    __int128 trips = s.to > s.from ? static_cast<__int128>(s.to) - s.from : 0;
    __int128 total = trips * outerTrips_;
    if (trips > kMaxLoopIterations) {
      ctx_.error(s.loc, "loop runs " + str128(trips) + " times; the limit is " +
                            std::to_string(kMaxLoopIterations));
      s.from = s.to = 0;
    } else if (total > kMaxLoopIterations) {
      ctx_.error(s.loc, "nested loops run " + str128(total) + " times in all; the limit is " +
                            std::to_string(kMaxLoopIterations));
      s.from = s.to = 0;
    }
    __int128 savedOuter = outerTrips_;
    outerTrips_ *= s.to > s.from ? s.to - s.from : 1;
    VarDecl* v = mod_->newVar(s.name, s.nameLoc, VarKind::LoopIndex);
    v->type = Type::integer();
    s.var = v;
    scopes_.emplace_back();
    declare(v);
    bool outer = loops_.empty();
    if (outer) loopBefore_ = states_;
    loops_.push_back(&s);
    block(s.body);
    loops_.pop_back();
    outerTrips_ = savedOuter;
    if (outer) checkOuterLoopExit();
    scopes_.pop_back();
    return;
  }
  }
}

bool BodyChecker::loopBound(const Expr& e, int64_t& out) {
  std::string why;
  // A name in a bound is an int input fixed by the data (`for t in 0..T`).
  bool nameFailed = false;
  NameValue names = [this, &nameFailed](const Expr& n, std::string& w) -> std::optional<int64_t> {
    bool input = false;
    for (const VarDecl* in : sizeOwner_ ? sizeOwner_->inputs : std::vector<VarDecl*>{})
      input = input || in->name == n.name;
    if (!input) { // not a size: the general message
      w = "not a constant";
      return std::nullopt;
    }
    auto v = dataSize(ctx_, sizeOwner_, n.name, n.loc, "loop bound", &w);
    nameFailed = !v;
    return v;
  };
  auto c = constEval(e, why, &names);
  if (!c && nameFailed) { // the name's own message, once
    if (!ctx_.sizeWhyShown) ctx_.error(e.loc, why);
    return false;
  }
  if (!c) {
    ctx_.error(e.loc, "loop bounds must be constant integer expressions (" + why + ")");
    return false;
  }
  if (!c->isInt) {
    ctx_.error(e.loc, "loop bounds must be integers, got " + formatNumber(*c));
    return false;
  }
  out = c->i;
  return true;
}

// `let (a, b, ...) = M(args);`: one call, each output bound to a name (in output order).
void BodyChecker::letTuple(Stmt& s) {
  const CallableDecl* callee = nullptr;
  Type t = Type::error();
  if (s.value->kind == ExprKind::Call && !distKindFromName(s.value->name) &&
      !builtinFromName(s.value->name)) {
    t = call(s.value, true);
    if (s.value->kind == ExprKind::Call) callee = s.value->callee;
    if (!callee) t = Type::error(); // reported by call()
  } else {
    t = expr(s.value);
    if (!t.isError())
      ctx_.error(s.value->loc, "'let (" + joinNames(s.names) +
                                   ") = ...' needs a call of a module or network with " +
                                   std::to_string(s.names.size()) + " outputs on its right");
    t = Type::error();
  }
  if (callee && callee->outputs.size() != s.names.size()) {
    std::string outs;
    for (const VarDecl* o : callee->outputs)
      outs += (outs.empty() ? "" : ", ") + o->name;
    ctx_.error(s.value->loc, std::string(callableWord(callee)) + " '" + callee->name + "' has " +
                                 std::to_string(callee->outputs.size()) + " output" +
                                 (callee->outputs.size() == 1 ? "" : "s") +
                                 (outs.empty() ? "" : " (" + outs + ")") + "; 'let (...)' binds " +
                                 std::to_string(s.names.size()) + " names");
    t = Type::error();
  }
  if (callee && !t.isError()) {
    s.value->outputIndex = 0;
    s.value->type = callee->outputs[0]->type;
  }
  for (size_t k = 0; k < s.names.size(); ++k) {
    VarDecl* v = mod_->newVar(s.names[k], s.nameLocs[k], VarKind::Let);
    v->topLevel = topLevel();
    v->type = t.isError() ? Type::error() : callee->outputs[k]->type;
    s.vars.push_back(v);
    declare(v);
  }
  s.var = s.vars.empty() ? nullptr : s.vars[0];
}

} // namespace chassis::spec::check
