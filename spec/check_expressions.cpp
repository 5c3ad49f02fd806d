// Expression typing for module bodies and properties (BodyChecker, spec/check_body.h): names
// resolved to variables or enum constants, operators and builtins typed with explicit int->real
// Promote nodes, calls of modules and networks (recorded as call edges), distributions under '~',
// observe and lpdf. The entry is BodyChecker::expr; an expression that fails gets the Error type.
#include "spec/check_body.h"

#include "spec/ast_printer.h"
#include "spec/parser.h"

#include <cctype>
#include <string>
#include <vector>

namespace chassis::spec::check {

namespace {

Type distResultType(DistKind k) {
  switch (signature(k).result) {
  case DistResultType::Bool:
    return Type::boolean();
  case DistResultType::Int:
    return Type::integer();
  case DistResultType::Real:
    return Type::real();
  }
  return Type::error();
}

// Stan's name of a log density, `normal_lpdf`, `poisson_lpmf`, `student_t_lpdf`: the
// distribution it names (letters compared without case and underscores), or nullopt.
std::optional<DistKind> stanDensityName(std::string_view n) {
  for (std::string_view suffix : {"_lpdf", "_lpmf", "_log"}) {
    if (n.size() <= suffix.size() || n.substr(n.size() - suffix.size()) != suffix) continue;
    auto squash = [](std::string_view x) {
      std::string r;
      for (char ch : x)
        if (ch != '_') r += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      return r;
    };
    std::string base = squash(n.substr(0, n.size() - suffix.size()));
    for (size_t i = 0; i < kDistSignatures.size(); ++i)
      if (squash(kDistSignatures[i].name) == base) return static_cast<DistKind>(i);
  }
  return std::nullopt;
}

} // namespace

// int -> real (or int[N] -> real[N]) if needed; false if `e` cannot become `to`.
bool BodyChecker::coerce(ExprPtr& e, const Type& to) {
  const Type& from = e->type;
  if (from.isError() || to.isError() || from == to) return true;
  bool scalar = from.kind == TypeKind::Int && to.kind == TypeKind::Real;
  bool arr = from.isArray() && to.isArray() && from.elem == TypeKind::Int &&
             to.elem == TypeKind::Real && from.length == to.length && from.cols == to.cols;
  if (!scalar && !arr) return false;
  auto p = std::make_unique<Expr>(ExprKind::Promote, e->loc);
  p->type = to;
  p->depth = e->depth + 1;
  p->args.push_back(std::move(e));
  e = std::move(p);
  return true;
}

Type BodyChecker::expr(ExprPtr& e) {
  switch (e->kind) {
  case ExprKind::IntLit:
    return set(e, Type::integer());
  case ExprKind::RealLit:
    return set(e, Type::real());
  case ExprKind::BoolLit:
    return set(e, Type::boolean());
  case ExprKind::Name:
    return name(e);
  case ExprKind::Member:
    return member(e);
  case ExprKind::Index: {
    // Reading x[i] of an output being assigned element-wise in the loop over i is allowed.
    bool partial = false;
    if (!loops_.empty() && e->args[1]->kind == ExprKind::Name)
      partial = lookupVar(e->args[1]->name) == loops_.front()->var;
    partialRead_ = partial && e->args[0]->kind == ExprKind::Name;
    Type b = expr(e->args[0]);
    partialRead_ = false;
    const bool two = e->args.size() > 2;
    if (!b.isError() && (!b.isArray() || (two && !b.isMatrix()))) {
      const std::string n = e->args[0]->kind == ExprKind::VarRef ? e->args[0]->name : "a";
      if (!b.isArray())
        ctx_.error(e->loc, "cannot index a value of type " + b.str());
      else
        ctx_.error(e->args[2]->loc, "'" + n + "' has one dimension (it is " + b.str() +
                                        "): index it as '" + n + "[i]'");
      for (size_t k = 1; k < e->args.size(); ++k)
        expr(e->args[k]);
      return set(e, Type::error());
    }
    const std::string name = e->args[0]->kind == ExprKind::VarRef ? e->args[0]->name
                             : e->args[0]->kind == ExprKind::Index ? printExpr(*e->args[0])
                                                                   : "array";
    if (b.isMatrix()) {
      // X[i] is row i (a T[K]); X[i, j] is an element, each index checked against its own
      // length.
      index(e->args[1], b, name, 1);
      if (!two) return set(e, b.row());
      index(e->args[2], b, name, 2);
      return set(e, b.element());
    }
    index(e->args[1], b, name);
    if (two) expr(e->args[2]);
    return set(e, b.isError() ? b : b.element());
  }
  case ExprKind::ArrayLit:
    return arrayLit(e);
  case ExprKind::Unary: {
    Type a = expr(e->args[0]);
    if (a.isError()) return set(e, a);
    if (e->unaryOp == UnaryOp::Neg) {
      if (!a.isNumeric()) {
        ctx_.error(e->loc, "operator '-' needs a number, got " + a.str());
        return set(e, Type::error());
      }
      return set(e, a);
    }
    if (a.kind != TypeKind::Bool) {
      ctx_.error(e->loc, "operator '!' needs a bool, got " + a.str());
      return set(e, Type::error());
    }
    return set(e, a);
  }
  case ExprKind::Binary:
    return binary(e);
  case ExprKind::Cond: {
    Type c = expr(e->args[0]);
    Type a = expr(e->args[1]);
    Type b = expr(e->args[2]);
    if (!c.isError() && c.kind != TypeKind::Bool)
      ctx_.error(e->args[0]->loc, "condition must be bool, got " + c.str());
    if (a.isError() || b.isError()) return set(e, Type::error());
    if (a == b) return set(e, a);
    if (a.isNumeric() && b.isNumeric()) {
      coerce(e->args[1], Type::real());
      coerce(e->args[2], Type::real());
      return set(e, Type::real());
    }
    if (coerce(e->args[1], b)) return set(e, b);
    if (coerce(e->args[2], a)) return set(e, a);
    ctx_.error(e->loc,
               "branches of the conditional have different types: " + a.str() + " and " + b.str());
    return set(e, Type::error());
  }
  case ExprKind::Call:
    return call(e, false);
  case ExprKind::Quant:
    return quant(e);
  case ExprKind::Always:
  case ExprKind::Prob:
  case ExprKind::Expect:
    return modelQuery(e);
  case ExprKind::VarRef:
  case ExprKind::EnumConst:
  case ExprKind::Promote:
  case ExprKind::Builtin:
  case ExprKind::Dist:
    return e->type; // already checked
  }
  return set(e, Type::error());
}

Type BodyChecker::name(ExprPtr& e) {
  if (VarDecl* v = lookupVar(e->name)) {
    e->kind = ExprKind::VarRef;
    e->var = v;
    if (mod_ && v->kind == VarKind::Output) checkOutputRead(*v, e->loc);
    if (v->type.kind == TypeKind::Distribution) return set(e, Type::error());
    return set(e, v->type);
  }
  auto bc = ctx_.bareConstants.find(e->name);
  if (bc != ctx_.bareConstants.end()) {
    if (bc->second.size() > 1) {
      ctx_.error(e->loc, "ambiguous enum constant '" + e->name + "' (in '" +
                             bc->second[0].first->name + "' and '" + bc->second[1].first->name +
                             "'); write " + bc->second[0].first->name + "." + e->name);
      return set(e, Type::error());
    }
    e->kind = ExprKind::EnumConst;
    e->enumDecl = bc->second[0].first;
    e->intValue = bc->second[0].second;
    return set(e, Type::enumeration(e->enumDecl));
  }
  auto g = ctx_.globals.find(e->name);
  if (g != ctx_.globals.end()) {
    Decl* d = g->second;
    if (d->kind == DeclKind::Enum)
      ctx_.error(e->loc, "'" + e->name + "' is an enum type, not a value");
    else if (d->kind == DeclKind::Property)
      ctx_.error(e->loc, "'" + e->name + "' is a property, not a value");
    else
      ctx_.error(e->loc, std::string(d->kind == DeclKind::Network ? "network" : "module") + " '" +
                             e->name + "' must be called: " + e->name + "(...)");
    return set(e, Type::error());
  }
  undefined(e->name, e->loc);
  return set(e, Type::error());
}

Type BodyChecker::member(ExprPtr& e) {
  Expr& base = *e->args[0];
  // Color.Red: an enum-qualified constant.
  if (base.kind == ExprKind::Name && !lookupVar(base.name)) {
    auto g = ctx_.globals.find(base.name);
    if (g != ctx_.globals.end() && g->second->kind == DeclKind::Enum) {
      auto* en = static_cast<EnumDecl*>(g->second);
      for (const EnumConstant& c : en->constants)
        if (c.name == e->name) {
          e->kind = ExprKind::EnumConst;
          e->enumDecl = en;
          e->intValue = c.value;
          e->loc = base.loc;
          e->args.clear();
          return set(e, Type::enumeration(en));
        }
      ctx_.error(e->nameLoc, "enum '" + en->name + "' has no constant '" + e->name + "'");
      return set(e, Type::error());
    }
  }
  if (base.kind == ExprKind::Call) {
    call(e->args[0], true);
    Expr& c = *e->args[0];
    if (c.kind != ExprKind::Call) { // a builtin's result has no outputs to select
      if (!c.type.isError())
        ctx_.error(e->nameLoc,
                   "'.' needs an enum name or a call of a module or network on its left");
      return set(e, Type::error());
    }
    if (!c.callee) return set(e, Type::error()); // reported by call()
    int k = c.callee->outputIndex(e->name);
    if (k < 0) {
      std::string outs;
      for (const VarDecl* o : c.callee->outputs)
        outs += (outs.empty() ? "" : ", ") + o->name;
      ctx_.error(e->nameLoc,
                 std::string(callableWord(c.callee)) + " '" + c.callee->name + "' has no output '" +
                     e->name + "'" +
                     (outs.empty() ? " (it has no outputs)" : " (outputs: " + outs + ")"));
      return set(e, Type::error());
    }
    ExprPtr callNode = std::move(e->args[0]);
    callNode->outputIndex = k;
    callNode->field = e->name;
    callNode->nameLoc = e->nameLoc;
    callNode->type = c.callee->outputs[k]->type;
    e = std::move(callNode);
    return e->type;
  }
  Type b = expr(e->args[0]);
  if (!b.isError())
    ctx_.error(e->nameLoc, "'.' needs an enum name or a call of a module or network on its left");
  return set(e, Type::error());
}

Type BodyChecker::binary(ExprPtr& e) {
  Type a = expr(e->args[0]);
  Type b = expr(e->args[1]);
  if (a.isError() || b.isError()) return set(e, Type::error());
  BinaryOp op = e->binaryOp;
  std::string sp = binaryOpSpelling(op);
  auto bad = [&](const std::string& need) {
    ctx_.error(e->loc,
               "operator '" + sp + "' needs " + need + ", got " + a.str() + " and " + b.str());
    return set(e, Type::error());
  };
  auto numericElems = [](const Type& t) {
    return t.elem == TypeKind::Int || t.elem == TypeKind::Real;
  };
  if (op == BinaryOp::Mul && a.isMatrix() && b.isVector() && numericElems(a) &&
      numericElems(b)) {
    // The matrix-vector product X * v: T[N, K] * T[K] -> T[N], (X * v)[i] = dot(X[i], v).
    if (a.cols != b.length)
      return bad("a matrix T[N, K] and a vector T[K] of its row length");
    if (a.elem == TypeKind::Int && b.elem == TypeKind::Int)
      return set(e, Type::array(Type::integer(), a.rows()));
    coerce(e->args[0], Type::matrix(Type::real(), a.rows(), a.cols));
    coerce(e->args[1], Type::array(Type::real(), b.length));
    return set(e, Type::array(Type::real(), a.rows()));
  }
  switch (op) {
  case BinaryOp::Add:
  case BinaryOp::Sub:
  case BinaryOp::Mul:
  case BinaryOp::Div:
    if (!a.isNumeric() || !b.isNumeric())
      return bad(op == BinaryOp::Mul && (a.isMatrix() || b.isMatrix())
                     ? "numbers, or a matrix T[N, K] and a vector T[K] (the matrix-vector "
                       "product)"
                     : "numbers");
    if (op != BinaryOp::Div && a.kind == TypeKind::Int && b.kind == TypeKind::Int)
      return set(e, Type::integer());
    coerce(e->args[0], Type::real());
    coerce(e->args[1], Type::real());
    return set(e, Type::real());
  case BinaryOp::Mod:
    if (a.kind != TypeKind::Int || b.kind != TypeKind::Int) return bad("two ints");
    return set(e, Type::integer());
  case BinaryOp::Lt:
  case BinaryOp::Le:
  case BinaryOp::Gt:
  case BinaryOp::Ge:
    if (!a.isNumeric() || !b.isNumeric()) return bad("numbers");
    if (a != b) {
      coerce(e->args[0], Type::real());
      coerce(e->args[1], Type::real());
    }
    return set(e, Type::boolean());
  case BinaryOp::Eq:
  case BinaryOp::Ne:
    if (a.isNumeric() && b.isNumeric()) {
      if (a != b) {
        coerce(e->args[0], Type::real());
        coerce(e->args[1], Type::real());
      }
      return set(e, Type::boolean());
    }
    if (a.isScalar() && a == b) return set(e, Type::boolean());
    return bad("two numbers, two bools or two values of the same enum");
  case BinaryOp::And:
  case BinaryOp::Or:
  case BinaryOp::Implies:
    if (a.kind != TypeKind::Bool || b.kind != TypeKind::Bool) return bad("bools");
    return set(e, Type::boolean());
  }
  return set(e, Type::error());
}

// `[e1, ..., en]`: scalars make a T[n]; one-dimensional arrays of one length K (rows, e.g.
// `[[1, 2], [3, 4]]` or `[x[0], x[1]]` of a matrix x) make a matrix T[n, K].
Type BodyChecker::arrayLit(ExprPtr& e) {
  Type t;
  bool err = false, anyReal = false;
  int shape = 0; // 1: scalar elements; 2: row elements (set by the first well-typed element)
  int64_t cols = 0;
  for (auto& a : e->args) {
    Type x = expr(a);
    if (x.isError()) {
      err = true;
      continue;
    }
    if (!x.isScalar() && !x.isVector()) {
      ctx_.error(a->loc, "array elements must be scalars or one-dimensional rows, got " + x.str());
      err = true;
      continue;
    }
    const int s = x.isVector() ? 2 : 1;
    if (shape == 0) {
      shape = s;
      cols = x.isVector() ? x.length : 0;
    } else if (s != shape) {
      ctx_.error(a->loc, shape == 1 ? "array elements must have one type: " + t.str() + " and " +
                                          x.str()
                                    : "the rows of a two-dimensional array literal must be "
                                      "arrays of length " +
                                          std::to_string(cols) + ", got " + x.str());
      err = true;
      continue;
    } else if (s == 2 && x.length != cols) {
      ctx_.error(a->loc, "the rows of a two-dimensional array literal must have one length: " +
                             std::to_string(cols) + " and " + std::to_string(x.length) +
                             " (row " + std::to_string(&a - &e->args[0]) + ")");
      err = true;
      continue;
    }
    Type xe = s == 2 ? x.element() : x;
    anyReal |= xe.kind == TypeKind::Real;
    if (t.isError())
      t = xe;
    else if (t != xe && !(t.isNumeric() && xe.isNumeric())) {
      ctx_.error(a->loc, "array elements must have one type: " + t.str() + " and " + xe.str());
      err = true;
    }
  }
  if (err || t.isError()) return set(e, Type::error());
  if (t.isNumeric() && anyReal) {
    t = Type::real();
    for (auto& a : e->args)
      coerce(a, shape == 2 ? Type::array(t, cols) : t);
  }
  const auto n = static_cast<int64_t>(e->args.size());
  if (shape == 2 && n * cols > kMaxArrayLength) {
    ctx_.error(e->loc, "array literal has " + std::to_string(n * cols) +
                           " elements, too many; the limit is " + std::to_string(kMaxArrayLength));
    return set(e, Type::error());
  }
  return set(e, shape == 2 ? Type::matrix(t, n, cols) : Type::array(t, n));
}

// A call `name(args)`: a builtin, a module or a network (distributions only via dist()).
Type BodyChecker::call(ExprPtr& e, bool selecting) {
  if (distKindFromName(e->name)) {
    for (auto& a : e->args)
      expr(a);
    ctx_.error(e->loc, "distribution '" + e->name +
                           "' can only be used on the right of '~' or as the first argument of "
                           "'observe'");
    return set(e, Type::error());
  }
  if (auto b = builtinFromName(e->name)) return builtin(e, *b);
  auto g = ctx_.globals.find(e->name);
  if (g == ctx_.globals.end() ||
      (g->second->kind != DeclKind::Module && g->second->kind != DeclKind::Network)) {
    for (auto& a : e->args)
      expr(a);
    if (lookupVar(e->name))
      ctx_.error(e->loc, "'" + e->name + "' is a variable, not a function");
    else if (auto d = stanDensityName(e->name))
      ctx_.error(e->loc, "undefined function '" + e->name + "': Stan's " + e->name +
                             "(x | ...) is written lpdf(" + std::string(signature(*d).name) +
                             "(...), x) here");
    else if (g != ctx_.globals.end())
      ctx_.error(e->loc, "'" + e->name + "' is not a module or network");
    else if (!ctx_.suggestionWanted(e->name))
      ctx_.error(e->loc, "undefined module, network or function '" + e->name + "'");
    else {
      std::vector<std::string_view> candidates;
      for (CallableDecl* c : ctx_.callables)
        candidates.push_back(c->name);
      for (int b = 0; b <= static_cast<int>(Builtin::Lpdf); ++b)
        candidates.push_back(builtinName(static_cast<Builtin>(b)));
      ctx_.error(e->loc, "undefined module, network or function '" + e->name + "'" +
                             ctx_.didYouMean(e->name, candidates));
    }
    return set(e, Type::error());
  }
  auto* c = static_cast<CallableDecl*>(g->second);
  e->callee = c;
  if (mod_) ctx_.edges.push_back({mod_, c, e->loc});
  bool ok = true;
  for (auto& a : e->args)
    ok &= !expr(a).isError();
  if (e->args.size() != c->inputs.size()) {
    ctx_.error(e->loc, std::string(callableWord(c)) + " '" + c->name + "' expects " +
                           std::to_string(c->inputs.size()) + " argument" +
                           (c->inputs.size() == 1 ? "" : "s") + ", got " +
                           std::to_string(e->args.size()));
    return set(e, Type::error());
  }
  for (size_t i = 0; i < e->args.size(); ++i) {
    const VarDecl* in = c->inputs[i];
    Type got = e->args[i]->type;
    if (!coerce(e->args[i], in->type)) {
      ctx_.error(e->args[i]->loc, "argument " + std::to_string(i + 1) + " of '" + c->name + "' ('" +
                                      in->name + "') must be " + in->type.str() + ", got " +
                                      got.str());
      ok = false;
    }
  }
  if (selecting) return set(e, ok ? Type::real() : Type::error()); // replaced by member()
  if (c->outputs.size() != 1) {
    ctx_.error(e->loc, std::string(callableWord(c)) + " '" + c->name + "' has " +
                           (c->outputs.empty() ? std::string("no outputs")
                                               : std::to_string(c->outputs.size()) +
                                                     " outputs; select one with '.name'"));
    return set(e, Type::error());
  }
  e->outputIndex = 0;
  return set(e, c->outputs[0]->type);
}

// `lpdf(D(params), x)`: the log density (mass) of D at x, a real. D's parameters are checked
// as for observe; x must have D's draw type (an int promotes for a real D). The lowering
// (spec/lower.cpp) writes the density with the IR's operators; the densities that need the
// log-gamma function of a value that is not a constant are reported here.
Type BodyChecker::lpdf(ExprPtr& e) {
  if (e->args.size() != 2) {
    for (auto& a : e->args)
      if (!(a->kind == ExprKind::Call && distKindFromName(a->name))) expr(a);
    ctx_.error(e->loc, "'lpdf' expects 2 arguments (a distribution and a value, e.g. "
                       "'lpdf(Normal(0.0, 1.0), x)'), got " +
                           std::to_string(e->args.size()));
    return set(e, Type::error());
  }
  Type dt = dist(e->args[0], "'lpdf'");
  Type t = expr(e->args[1]);
  if (dt.isError() || t.isError()) return set(e, Type::error());
  const Expr& d = *e->args[0];
  if (!coerce(e->args[1], dt)) {
    ctx_.error(e->args[1]->loc, "the value of 'lpdf(" + d.name + "(...), x)' must be " + dt.str() +
                                    " (a draw of '" + d.name + "'), got " + t.str());
    return set(e, Type::error());
  }
  // Parameters whose log-gamma the density needs, and that must therefore be constants
  // (folded while lowering): the IR has no lgamma operator.
  std::string why;
  auto needConstant = [&](const Expr& a, const std::string& what, const std::string& lg) {
    if (auto v = constEval(a, why)) {
      bool positive = lg == "x + 1" || lg == "n + 1" || v->real() > 0;
      if (!positive)
        ctx_.error(a.loc, "lpdf(" + d.name + ", ...): " + what + " must be positive, got " +
                              formatNumber(*v));
      return positive;
    }
    ctx_.error(a.loc, "lpdf(" + d.name + ", ...) is not supported yet when " + what +
                          " is not a constant: its density needs lgamma(" + lg +
                          "), which the IR does not have");
    return false;
  };
  bool ok = true;
  switch (d.dist) {
  case DistKind::StudentT:
    ok = needConstant(*d.args[0], "nu", "nu / 2");
    break;
  case DistKind::Gamma:
    ok = needConstant(*d.args[0], "shape", "shape");
    break;
  case DistKind::Beta:
    ok = needConstant(*d.args[0], "a", "a");
    ok = needConstant(*d.args[1], "b", "b") && ok;
    break;
  case DistKind::Poisson:
    ok = needConstant(*e->args[1], "the value", "x + 1");
    break;
  case DistKind::Binomial:
    ok = needConstant(*d.args[0], "n", "n + 1");
    ok = needConstant(*e->args[1], "the value", "x + 1") && ok;
    break;
  default:
    break;
  }
  return set(e, ok ? Type::real() : Type::error());
}

Type BodyChecker::builtin(ExprPtr& e, Builtin b) {
  e->kind = ExprKind::Builtin;
  e->builtin = b;
  std::string bn = builtinName(b);
  if (b == Builtin::Lpdf) return lpdf(e);
  bool err = false;
  for (auto& a : e->args)
    err |= expr(a).isError();
  size_t want = b == Builtin::Min || b == Builtin::Max || b == Builtin::Dot || b == Builtin::Pow ? 2
                : b == Builtin::LogMix                                                           ? 3
                                       : 1;
  if (b == Builtin::LogSumExp && e->args.size() == 2) want = 2;
  if (e->args.size() != want) {
    ctx_.error(e->loc,
               "'" + bn + "' expects " +
                   (b == Builtin::LogSumExp ? std::string("1 or 2") : std::to_string(want)) +
                   " argument" + (want == 1 && b != Builtin::LogSumExp ? "" : "s") + ", got " +
                   std::to_string(e->args.size()));
    return set(e, Type::error());
  }
  if (err) return set(e, Type::error());
  auto numArray = [](const Type& t) {
    return t.isVector() && (t.elem == TypeKind::Int || t.elem == TypeKind::Real);
  };
  auto numeric = [&](const Type& t) { return t.isNumeric() || numArray(t); };
  const Type a = e->args[0]->type;
  auto realOf = [](const Type& t) {
    return t.isArray() ? Type::array(Type::real(), t.length) : Type::real();
  };
  switch (b) {
  case Builtin::Min:
  case Builtin::Max:
  case Builtin::Dot: {
    const Type c = e->args[1]->type;
    bool arrays = numArray(a) && numArray(c) && a.length == c.length;
    bool scalars = a.isNumeric() && c.isNumeric();
    if (b == Builtin::Dot ? !arrays : !(arrays || scalars)) {
      ctx_.error(e->loc,
                 "'" + bn + "' expects " +
                     (b == Builtin::Dot ? std::string("two number arrays of the same length")
                                        : std::string("two numbers or two number arrays of "
                                                      "the same length")) +
                     ", got " + a.str() + " and " + c.str());
      return set(e, Type::error());
    }
    bool ints = (arrays ? a.elem == TypeKind::Int && c.elem == TypeKind::Int
                        : a.kind == TypeKind::Int && c.kind == TypeKind::Int);
    if (ints) return set(e, b == Builtin::Dot ? Type::integer() : a);
    coerce(e->args[0], realOf(a));
    coerce(e->args[1], realOf(c));
    return set(e, b == Builtin::Dot ? Type::real() : realOf(a));
  }
  case Builtin::Abs:
  case Builtin::Fabs:
  case Builtin::Relu:
  case Builtin::Square:
    if (!numeric(a)) break;
    return set(e, a);
  case Builtin::Pow:
  case Builtin::LogSumExp:
  case Builtin::LogMix: {
    if (b == Builtin::LogSumExp && e->args.size() == 1) {
      if (!numArray(a)) {
        ctx_.error(e->loc,
                   "'log_sum_exp' expects an array of numbers or two numbers, got " + a.str());
        return set(e, Type::error());
      }
      coerce(e->args[0], realOf(a));
      return set(e, Type::real());
    }
    std::string got;
    bool scalars = true;
    for (size_t k = 0; k < e->args.size(); ++k) {
      got += (k == 0 ? "" : k + 1 == e->args.size() ? " and " : ", ") + e->args[k]->type.str();
      scalars &= e->args[k]->type.isNumeric();
    }
    if (!scalars) {
      ctx_.error(e->loc,
                 "'" + bn + "' expects " + (e->args.size() == 3 ? "three" : "two") + " numbers" +
                     (b == Builtin::LogSumExp ? " or an array of numbers" : "") + ", got " + got);
      return set(e, Type::error());
    }
    for (auto& x : e->args)
      coerce(x, Type::real());
    return set(e, Type::real());
  }
  case Builtin::Lpdf:
    break; // handled above
  case Builtin::Exp:
  case Builtin::Log:
  case Builtin::Sqrt:
  case Builtin::Sigmoid:
  case Builtin::Tanh:
    if (!numeric(a)) break;
    coerce(e->args[0], realOf(a));
    return set(e, realOf(a));
  case Builtin::Sum:
    if (!numArray(a)) break;
    return set(e, a.element());
  case Builtin::Argmax:
    if (!numArray(a)) break;
    return set(e, Type::integer());
  }
  bool arr = b == Builtin::Sum || b == Builtin::Argmax;
  ctx_.error(e->loc, "'" + bn + "' expects " +
                         (arr ? "an array of numbers" : "a number or an array of numbers") +
                         ", got " + a.str());
  return set(e, Type::error());
}

// `D(args)` under '~' or observe: returns the draw's type, or Error.
// `vecLen` > 0: the statement is vectorised over arrays of that length (observe(D(...), y)
// with y an array, x ~ D(...) with x an array): a real parameter may then be a scalar (shared)
// or an array of that length (elementwise).
Type BodyChecker::dist(ExprPtr& e, const char* where, int64_t vecLen, int64_t vecCols) {
  if (e->kind != ExprKind::Call) {
    expr(e);
    if (!e->type.isError())
      ctx_.error(e->loc, std::string("expected a distribution (e.g. 'Normal(0.0, 1.0)') in ") +
                             where + ", found a value of type " + e->type.str());
    return Type::error();
  }
  auto k = distKindFromName(e->name);
  if (!k) {
    for (auto& a : e->args)
      expr(a);
    auto g = ctx_.globals.find(e->name);
    if (builtinFromName(e->name) || g != ctx_.globals.end())
      ctx_.error(e->loc, "'" + e->name + "' is not a distribution");
    else
      ctx_.error(e->loc, "unknown distribution '" + e->name + "'");
    return Type::error();
  }
  e->kind = ExprKind::Dist;
  e->dist = *k;
  // Flat(simplex) / Flat(ordered) range over whole arrays: only `x ~` into a real array or
  // matrix (every row constrained), or `X[i] ~` into a matrix row.
  if (e->flatShape != FlatShape::None && (std::string_view(where) != "'~'" || vecLen == 0)) {
    const char* shape = e->flatShape == FlatShape::Simplex ? "simplex" : "ordered";
    ctx_.error(e->loc,
               std::string("Flat(") + shape + ") is a prior over a whole real array or a " +
                   "matrix row: declare the array and draw it at once ('var x: real[K]; x ~ Flat(" +
                   shape + ");', or 'X[i] ~ Flat(" + shape + ");' for row i of a matrix X)" +
                   (std::string_view(where) == "'~'" ? "" : std::string(", not in ") + where));
    return Type::error();
  }
  e->type = Type::distribution();
  const DistSignature& sig = signature(*k);
  bool err = false;
  for (auto& a : e->args)
    err |= expr(a).isError();
  if (static_cast<int>(e->args.size()) != sig.nparams) {
    ctx_.error(e->loc, "distribution '" + e->name + "' expects " + std::to_string(sig.nparams) +
                           " argument" + (sig.nparams == 1 ? "" : "s") + ", got " +
                           std::to_string(e->args.size()));
    return Type::error();
  }
  for (int i = 0; i < sig.nparams; ++i) {
    ExprPtr& a = e->args[i];
    Type got = a->type;
    if (got.isError()) continue;
    std::string p = "distribution '" + e->name + "' parameter '" + std::string(sig.paramNames[i]) +
                    "' must be ";
    switch (sig.paramTypes[i]) {
    case DistParamType::Real:
      if (vecCols > 0 && got.isArray()) {
        // Over a matrix T[N, K]: elementwise (real[N, K]) or one per column, shared by every
        // row (real[K], broadcast over the rows).
        const int64_t rows = vecLen / vecCols;
        const Type full = Type::matrix(Type::real(), rows, vecCols);
        const Type row = Type::array(Type::real(), vecCols);
        const bool ok = got.isMatrix() ? got.length == vecLen && got.cols == vecCols && coerce(a, full)
                                       : got.length == vecCols && coerce(a, row);
        if (!ok)
          ctx_.error(a->loc, p + "real, " + row.str() +
                                 " (one per column, shared by every row) or " + full.str() +
                                 " (elementwise, the shape of the vectorised array), got " +
                                 got.str()),
              err = true;
        break;
      }
      if (vecLen > 0 && got.isArray()) {
        if (got.length != vecLen || !coerce(a, Type::array(Type::real(), vecLen)))
          ctx_.error(a->loc, p + "real or real[" + std::to_string(vecLen) +
                                 "] (elementwise, as long as the vectorised array), got " +
                                 got.str()),
              err = true;
        break;
      }
      if (!coerce(a, Type::real())) ctx_.error(a->loc, p + "real, got " + got.str()), err = true;
      break;
    case DistParamType::Int:
      if (got.kind != TypeKind::Int) ctx_.error(a->loc, p + "int, got " + got.str()), err = true;
      break;
    case DistParamType::RealArray:
      if (!got.isArray() || !coerce(a, Type::array(Type::real(), got.length)))
        ctx_.error(a->loc, p + "a real array, got " + got.str()), err = true;
      break;
    case DistParamType::None:
      break;
    }
  }
  return err ? Type::error() : distResultType(*k);
}

} // namespace chassis::spec::check
