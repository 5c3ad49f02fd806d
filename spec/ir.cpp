// The core IR's construction: types, the typing rules of every node (one function per node kind,
// returning an error message rather than building an ill-typed node), hash-consing (structural
// hash + equality over kind, type, operand pointers and payload; operands are already interned,
// so comparing their pointers is comparing their structure), functions, programs and the
// mutator. The semantics are in ir.h.
#include "spec/ir.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <functional>

namespace chassis::ir {

// ---- names ------------------------------------------------------------------------------------

std::string_view kindName(ExprKind k) {
  switch (k) {
#define CHASSIS_IR_EXPR(K)                                                                         \
  case ExprKind::K:                                                                                \
    return #K;
#include "spec/ir_nodes.def"
  }
  return "?";
}

std::string_view kindName(StmtKind k) {
  switch (k) {
#define CHASSIS_IR_STMT(K)                                                                         \
  case StmtKind::K:                                                                                \
    return #K;
#include "spec/ir_nodes.def"
  }
  return "?";
}

std::string_view spelling(UnOp op) {
  switch (op) {
#define CHASSIS_IR_UNOP(N, S)                                                                      \
  case UnOp::N:                                                                                    \
    return S;
#include "spec/ir_nodes.def"
  }
  return "?";
}

std::string_view spelling(BinOp op) {
  switch (op) {
#define CHASSIS_IR_BINOP(N, S)                                                                     \
  case BinOp::N:                                                                                   \
    return S;
#include "spec/ir_nodes.def"
  }
  return "?";
}

bool isInfix(BinOp op) {
  return op != BinOp::Min && op != BinOp::Max && op != BinOp::Dot;
}

std::string_view roleName(VarRole r) {
  switch (r) {
  case VarRole::Input:
    return "input";
  case VarRole::Output:
    return "output";
  case VarRole::Local:
    return "local";
  case VarRole::LoopIndex:
    return "index";
  case VarRole::Random:
    return "random";
  case VarRole::Quantified:
    return "quantified";
  }
  return "?";
}

std::string_view propertyKindName(PropertyKind k) {
  switch (k) {
  case PropertyKind::Forall:
    return "forall";
  case PropertyKind::Exists:
    return "exists";
  case PropertyKind::Always:
    return "always";
  case PropertyKind::Probability:
    return "P";
  case PropertyKind::Expectation:
    return "E";
  }
  return "?";
}

// ---- types ------------------------------------------------------------------------------------

Type Type::array(const Type& elem, int n) {
  Type t = elem;
  t.dims.insert(t.dims.begin(), n);
  return t;
}

Type Type::element() const {
  Type t = *this;
  if (!t.dims.empty()) t.dims.erase(t.dims.begin());
  return t;
}

size_t Type::numScalars() const {
  size_t n = 1;
  for (int d : dims)
    n *= size_t(d);
  return n;
}

std::string Context::typeName(const Type& t) const {
  std::string s;
  switch (t.scalar) {
  case ScalarKind::Bool:
    s = "bool";
    break;
  case ScalarKind::Int:
    s = "int";
    break;
  case ScalarKind::Real:
    s = "real";
    break;
  case ScalarKind::Tuple:
    s = "tuple";
    break;
  case ScalarKind::Enum:
    s = t.enumId >= 0 && size_t(t.enumId) < enums_.size() ? enums_[t.enumId].name : "enum?";
    break;
  }
  for (int d : t.dims)
    s += "[" + std::to_string(d) + "]";
  return s;
}

// ---- hash-consing -----------------------------------------------------------------------------

namespace {

size_t mix(size_t h, size_t v) {
  return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

size_t hashLayer(const DenseLayer& l) {
  size_t h = mix(size_t(l.rows), size_t(l.cols));
  for (double w : *l.weights)
    h = mix(h, std::bit_cast<uint64_t>(w));
  for (double b : *l.bias)
    h = mix(h, std::bit_cast<uint64_t>(b));
  return h;
}

bool sameLayer(const std::shared_ptr<const DenseLayer>& a,
               const std::shared_ptr<const DenseLayer>& b) {
  if (a == b) return true;
  if (!a || !b) return false;
  if (a->rows != b->rows || a->cols != b->cols) return false;
  auto same = [](const std::vector<double>& x, const std::vector<double>& y) {
    return x.size() == y.size() &&
           (x.empty() || std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0);
  };
  return same(*a->weights, *b->weights) && same(*a->bias, *b->bias);
}

} // namespace

bool Context::Eq::operator()(Expr a, Expr b) const {
  if (a == b) return true;
  return a->kind_ == b->kind_ && a->hash_ == b->hash_ && a->type_ == b->type_ &&
         a->ops_ == b->ops_ && a->i_ == b->i_ && a->a_ == b->a_ && a->b_ == b->b_ &&
         std::bit_cast<uint64_t>(a->d_) == std::bit_cast<uint64_t>(b->d_) && a->fn_ == b->fn_ &&
         a->name_ == b->name_ && sameLayer(a->layer_, b->layer_);
}

Context::~Context() = default;

Expr Context::intern(ExprNode n) {
  size_t h = mix(size_t(n.kind_), size_t(n.type_.scalar));
  h = mix(h, size_t(n.type_.enumId + 1));
  for (int d : n.type_.dims)
    h = mix(h, size_t(d));
  for (Expr op : n.ops_)
    h = mix(h, std::hash<const void*>()(op));
  h = mix(h, size_t(n.i_));
  h = mix(h, size_t(n.a_));
  h = mix(h, size_t(n.b_));
  h = mix(h, std::bit_cast<uint64_t>(n.d_));
  h = mix(h, std::hash<const void*>()(n.fn_));
  h = mix(h, std::hash<std::string>()(n.name_));
  if (n.layer_) h = mix(h, hashLayer(*n.layer_));
  n.hash_ = h;
  if (auto it = table_.find(&n); it != table_.end()) return *it;
  if (nodeLimit_ != 0 && nodes_.size() >= nodeLimit_) throw NodeLimitExceeded{nodeLimit_};

  n.id_ = uint32_t(nodes_.size());
  std::unique_ptr<ExprNode> node;
  switch (n.kind_) {
#define CHASSIS_IR_EXPR(K)                                                                         \
  case ExprKind::K:                                                                                \
    node = std::make_unique<K>(n);                                                                 \
    break;
#include "spec/ir_nodes.def"
  }
  Expr raw = node.get();
  nodes_.push_back(std::move(node));
  table_.insert(raw);
  return raw;
}

// ---- constants and variables ------------------------------------------------------------------

// ExprNode's constructor is protected; this helper type lets Context build candidates.
struct NodeBuilder : ExprNode {
  NodeBuilder(ExprKind k, Type t, std::vector<Expr> ops) {
    kind_ = k;
    type_ = std::move(t);
    ops_ = std::move(ops);
  }
  NodeBuilder& payload(int64_t i, int a = 0, int b = 0, double d = 0) {
    i_ = i;
    a_ = a;
    b_ = b;
    d_ = d;
    return *this;
  }
  NodeBuilder& fn(const Function* f) {
    fn_ = f;
    return *this;
  }
  NodeBuilder& layer(std::shared_ptr<const DenseLayer> l) {
    layer_ = std::move(l);
    return *this;
  }
  NodeBuilder& name(std::string s) {
    name_ = std::move(s);
    return *this;
  }
};

Expr Context::boolConst(bool v) {
  return intern(NodeBuilder(ExprKind::Const, Type::boolean(), {}).payload(v ? 1 : 0));
}
Expr Context::intConst(int64_t v) {
  return intern(NodeBuilder(ExprKind::Const, Type::integer(), {}).payload(v));
}
Expr Context::realConst(double v) {
  if (std::isnan(v)) orDie(Error("a real constant is NaN"));
  return intern(NodeBuilder(ExprKind::Const, Type::real(), {}).payload(0, 0, 0, v));
}
Expr Context::enumConst(int enumId, int64_t index) {
  if (enumId < 0 || size_t(enumId) >= enums_.size() || index < 0 ||
      size_t(index) >= enums_[enumId].constants.size())
    orDie(Error("enum constant out of range"));
  return intern(NodeBuilder(ExprKind::Const, Type::enumeration(enumId), {}).payload(index));
}
Expr Context::zero(const Type& t) {
  switch (t.scalar) {
  case ScalarKind::Bool:
    return boolConst(false);
  case ScalarKind::Int:
    return intConst(0);
  case ScalarKind::Real:
    return realConst(0.0);
  case ScalarKind::Enum:
    return enumConst(t.enumId, 0);
  case ScalarKind::Tuple:
    break;
  }
  return orDie(Error("no zero of a tuple"));
}

const Var* Context::newVar(std::string name, Type t, VarRole role, int slot) {
  Expr e = intern(NodeBuilder(ExprKind::Var, std::move(t), {})
                      .payload(nextVarId_++, int(role), slot)
                      .name(std::move(name)));
  return static_cast<const Var*>(e);
}

int Context::addEnum(EnumDecl e) {
  enums_.push_back(std::move(e));
  return int(enums_.size()) - 1;
}

// ---- typing rules -----------------------------------------------------------------------------

namespace {

std::string tn(const Context& c, const Type& t) {
  return c.typeName(t);
}

bool isReal(const Type& t) {
  return t.is(ScalarKind::Real);
}
bool isBool(const Type& t) {
  return t.is(ScalarKind::Bool);
}
bool isInt(const Type& t) {
  return t.is(ScalarKind::Int);
}

} // namespace

Expected<Expr> Context::tryUnary(UnOp op, Expr a) {
  const Type& t = a->type();
  auto bad = [&]() -> Expected<Expr> {
    return Error(std::string("operator '") + std::string(spelling(op)) + "' does not apply to " +
                 tn(*this, t));
  };
  Type result;
  switch (op) {
  case UnOp::Neg:
  case UnOp::Abs:
  case UnOp::Relu:
    if (!t.isNumeric()) return bad();
    result = t;
    break;
  case UnOp::Not:
    if (!isBool(t)) return bad();
    result = t;
    break;
  case UnOp::ToReal:
    if (!isInt(t)) return bad();
    result = Type::real();
    break;
  case UnOp::Exp:
  case UnOp::Log:
  case UnOp::Sqrt:
  case UnOp::Sigmoid:
  case UnOp::Tanh:
    if (!isReal(t)) return bad();
    result = t;
    break;
  case UnOp::Sum:
    if (!t.isNumericVector()) return bad();
    result = t.scalarType();
    break;
  case UnOp::Argmax:
    if (!t.isNumericVector() || t.length() == 0) return bad();
    result = Type::integer();
    break;
  }
  return intern(NodeBuilder(ExprKind::Unary, std::move(result), {a}).payload(0, int(op)));
}

Expected<Expr> Context::tryBinary(BinOp op, Expr a, Expr b) {
  const Type &ta = a->type(), &tb = b->type();
  auto bad = [&]() -> Expected<Expr> {
    return Error(std::string("operator '") + std::string(spelling(op)) + "' does not apply to " +
                 tn(*this, ta) + " and " + tn(*this, tb));
  };
  Type result;
  switch (op) {
  case BinOp::Add:
  case BinOp::Sub:
  case BinOp::Mul:
  case BinOp::Div:
  case BinOp::Min:
  case BinOp::Max:
    if (!ta.isNumeric() || ta != tb) return bad();
    result = ta;
    break;
  case BinOp::Mod:
    if (!isInt(ta) || !isInt(tb)) return bad();
    result = ta;
    break;
  case BinOp::Dot:
    if (!ta.isNumericVector() || ta != tb) return bad();
    result = ta.scalarType();
    break;
  case BinOp::Eq:
  case BinOp::Ne:
    if (!ta.isScalar() || ta != tb) return bad();
    result = Type::boolean();
    break;
  case BinOp::Lt:
  case BinOp::Le:
  case BinOp::Gt:
  case BinOp::Ge:
    if (!ta.isNumeric() || ta != tb) return bad();
    result = Type::boolean();
    break;
  case BinOp::And:
  case BinOp::Or:
  case BinOp::Implies:
    if (!isBool(ta) || !isBool(tb)) return bad();
    result = Type::boolean();
    break;
  }
  return intern(NodeBuilder(ExprKind::Binary, std::move(result), {a, b}).payload(0, int(op)));
}

Expected<Expr> Context::trySelect(Expr c, Expr a, Expr b) {
  if (!isBool(c->type()))
    return Error("the condition of a select is " + tn(*this, c->type()) + ", not bool");
  if (a->type() != b->type() || a->type().scalar == ScalarKind::Tuple)
    return Error("the branches of a select have types " + tn(*this, a->type()) + " and " +
                 tn(*this, b->type()));
  return intern(NodeBuilder(ExprKind::Select, a->type(), {c, a, b}));
}

Expected<Expr> Context::tryArrayLit(const Type& elem, std::vector<Expr> elems) {
  if (elem.scalar == ScalarKind::Tuple) return Error("an array of tuples");
  for (Expr e : elems)
    if (e->type() != elem)
      return Error("an array of " + tn(*this, elem) + " has an element of type " +
                   tn(*this, e->type()));
  Type t = Type::array(elem, int(elems.size()));
  return intern(NodeBuilder(ExprKind::ArrayLit, std::move(t), std::move(elems)));
}

Expected<Expr> Context::tryIndex(Expr a, Expr i) {
  if (!a->type().isArray()) return Error("indexing a value of type " + tn(*this, a->type()));
  if (!isInt(i->type())) return Error("an index of type " + tn(*this, i->type()) + ", not int");
  return intern(NodeBuilder(ExprKind::Index, a->type().element(), {a, i}));
}

Expected<Expr> Context::tryUpdate(Expr a, Expr i, Expr v) {
  if (!a->type().isArray()) return Error("updating a value of type " + tn(*this, a->type()));
  if (!isInt(i->type())) return Error("an index of type " + tn(*this, i->type()) + ", not int");
  if (v->type() != a->type().element())
    return Error("storing " + tn(*this, v->type()) + " into " + tn(*this, a->type()));
  return intern(NodeBuilder(ExprKind::Update, a->type(), {a, i, v}));
}

Expected<Type> Context::checkCall(const Function& f, std::span<const Expr> args) {
  if (args.size() != f.inputs().size())
    return Error("'" + f.name() + "' takes " + std::to_string(f.inputs().size()) +
                 " arguments, given " + std::to_string(args.size()));
  for (size_t k = 0; k < args.size(); ++k)
    if (args[k]->type() != f.inputs()[k].var->type())
      return Error("argument " + std::to_string(k + 1) + " of '" + f.name() + "' is " +
                   tn(*this, args[k]->type()) + ", expected " +
                   tn(*this, f.inputs()[k].var->type()));
  return Type::tuple();
}

Expected<Expr> Context::tryCall(const Function& f, std::vector<Expr> args) {
  if (f.isRandom())
    return Error("'" + f.name() + "' is random: call it with a call statement, not an expression");
  auto t = checkCall(f, args);
  if (!t) return t.error();
  return intern(NodeBuilder(ExprKind::Call, *t, std::move(args)).fn(&f));
}

Expected<Expr> Context::tryCallResult(Expr call, int index) {
  auto* c = call->as<Call>();
  if (!c) return Error("a call result of a " + std::string(kindName(call->kind())) + " node");
  if (index < 0 || size_t(index) >= c->callee().outputs().size())
    return Error("'" + c->callee().name() + "' has no output " + std::to_string(index));
  return intern(NodeBuilder(ExprKind::CallResult, c->callee().outputs()[index]->type(), {call})
                    .payload(0, index));
}

Expected<Expr> Context::tryAffine(std::shared_ptr<const DenseLayer> l, Expr x) {
  if (!l || !l->weights || !l->bias) return Error("an affine layer without weights");
  if (l->rows <= 0 || l->cols <= 0 || l->weights->size() != size_t(l->rows) * l->cols ||
      l->bias->size() != size_t(l->rows))
    return Error("an affine layer whose weights do not match its shape " + std::to_string(l->rows) +
                 "x" + std::to_string(l->cols));
  if (x->type() != Type::array(Type::real(), l->cols))
    return Error("an affine layer of " + std::to_string(l->cols) + " inputs applied to " +
                 tn(*this, x->type()));
  for (double w : *l->weights)
    if (!std::isfinite(w)) return Error("an affine layer with a non-finite weight");
  for (double w : *l->bias)
    if (!std::isfinite(w)) return Error("an affine layer with a non-finite bias");
  Type t = Type::array(Type::real(), l->rows);
  return intern(NodeBuilder(ExprKind::Affine, std::move(t), {x}).layer(std::move(l)));
}

Expected<Expr> Context::tryVecRelu(Expr x) {
  if (x->type().dims.size() != 1 || x->type().scalar != ScalarKind::Real)
    return Error("a ReLU layer applied to " + tn(*this, x->type()) + ", not a real vector");
  return intern(NodeBuilder(ExprKind::VecRelu, x->type(), {x}));
}

Expected<Expr> Context::rebuild(Expr e, std::vector<Expr> ops) {
  if (std::equal(ops.begin(), ops.end(), e->operands().begin(), e->operands().end())) return e;
  switch (e->kind()) {
  case ExprKind::Const:
  case ExprKind::Var:
    return e;
  case ExprKind::Unary:
    return tryUnary(e->as<Unary>()->op(), ops[0]);
  case ExprKind::Binary:
    return tryBinary(e->as<Binary>()->op(), ops[0], ops[1]);
  case ExprKind::Select:
    return trySelect(ops[0], ops[1], ops[2]);
  case ExprKind::ArrayLit:
    return tryArrayLit(e->type().element(), std::move(ops));
  case ExprKind::Index:
    return tryIndex(ops[0], ops[1]);
  case ExprKind::Update:
    return tryUpdate(ops[0], ops[1], ops[2]);
  case ExprKind::Call:
    return tryCall(e->as<Call>()->callee(), std::move(ops));
  case ExprKind::CallResult:
    return tryCallResult(ops[0], e->as<CallResult>()->index());
  case ExprKind::Affine:
    return tryAffine(e->layer_, ops[0]);
  case ExprKind::VecRelu:
    return tryVecRelu(ops[0]);
  }
  return Error("rebuild of an unknown node");
}

// ---- functions, properties, programs ---------------------------------------------------------

int Function::outputIndex(std::string_view name) const {
  for (size_t k = 0; k < outputs_.size(); ++k)
    if (outputs_[k]->name() == name) return int(k);
  return -1;
}

int Function::inputIndex(std::string_view name) const {
  for (size_t k = 0; k < inputs_.size(); ++k)
    if (inputs_[k].var->name() == name) return int(k);
  return -1;
}

const Var* Function::newVar(std::string name, Type t, VarRole role) {
  const Var* v = ctx_->newVar(std::move(name), std::move(t), role, int(vars_.size()));
  vars_.push_back(v);
  return v;
}

const Var* Function::addInput(std::string name, Type t,
                              std::optional<std::pair<double, double>> range) {
  const Var* v = newVar(std::move(name), std::move(t), VarRole::Input);
  inputs_.push_back({v, range});
  return v;
}

const Var* Function::addOutput(std::string name, Type t) {
  const Var* v = newVar(std::move(name), std::move(t), VarRole::Output);
  outputs_.push_back(v);
  return v;
}

void Function::setBody(Block body) {
  body_ = std::move(body);
  random_ = weighted_ = false;
  forEachStmt(body_, [&](Stmt s) {
    switch (s->kind()) {
    case StmtKind::Sample:
      random_ = true;
      break;
    case StmtKind::Observe:
    case StmtKind::Condition:
    case StmtKind::Factor:
      random_ = weighted_ = true;
      break;
    case StmtKind::Call: {
      const Function* f = s->as<CallStmt>()->callee;
      random_ = random_ || f->isRandom();
      weighted_ = weighted_ || f->hasWeight();
      break;
    }
    default:
      break;
    }
  });
}

const Var* Property::addVar(Context& ctx, std::string name, Type t, double lo, double hi,
                            bool exists) {
  const Var* v = ctx.newVar(std::move(name), std::move(t), VarRole::Quantified, numSlots++);
  vars.push_back({v, lo, hi, exists});
  return v;
}

Function& Program::addFunction(std::string name, FunctionKind kind, SourceLoc loc) {
  functions_.push_back(std::make_unique<Function>(*ctx_, std::move(name), kind, std::move(loc)));
  return *functions_.back();
}

const Function* Program::findFunction(std::string_view name) const {
  for (auto& f : functions_)
    if (f->name() == name) return f.get();
  return nullptr;
}

Function* Program::findFunction(std::string_view name) {
  for (auto& f : functions_)
    if (f->name() == name) return f.get();
  return nullptr;
}

// ---- mutator ----------------------------------------------------------------------------------

Expr ExprMutator::mutate(Expr e) {
  if (e->id() < memo_.size() && memo_[e->id()]) return memo_[e->id()];
  Expr r = dispatch(e);
  if (memo_.size() <= e->id()) memo_.resize(e->id() + 1, nullptr);
  memo_[e->id()] = r;
  return r;
}

Expr ExprMutator::dispatch(Expr e) {
  switch (e->kind()) {
#define CHASSIS_IR_EXPR(K)                                                                         \
  case ExprKind::K:                                                                                \
    return visit##K(static_cast<const K&>(*e));
#include "spec/ir_nodes.def"
  }
  std::abort();
}

Expr ExprMutator::mutateOperands(Expr e) {
  std::vector<Expr> ops;
  ops.reserve(e->numOperands());
  for (Expr op : e->operands())
    ops.push_back(mutate(op));
  auto r = ctx_.rebuild(e, std::move(ops));
  if (!r) {
    std::fprintf(stderr, "chassis: internal error: a mutator made ill-typed IR: %s\n",
                 r.error().message.c_str());
    std::abort();
  }
  return *r;
}

Stmt ExprMutator::mutateStmt(Stmt s) {
  auto m = [&](Expr e) { return e ? mutate(e) : e; };
  auto ms = [&](const std::vector<Expr>& es) {
    std::vector<Expr> out;
    for (Expr e : es)
      out.push_back(mutate(e));
    return out;
  };
  const SourceLoc& l = s->loc();
  switch (s->kind()) {
  case StmtKind::Let: {
    auto* x = s->as<LetStmt>();
    return ctx_.stmt<LetStmt>(l, x->var, m(x->value));
  }
  case StmtKind::Assign: {
    auto* x = s->as<AssignStmt>();
    return ctx_.stmt<AssignStmt>(l, x->var, m(x->value));
  }
  case StmtKind::Sample: {
    auto* x = s->as<SampleStmt>();
    return ctx_.stmt<SampleStmt>(l, x->var, x->dist, ms(x->params), x->name, ms(x->indices),
                                 m(x->transformShift));
  }
  case StmtKind::Observe: {
    auto* x = s->as<ObserveStmt>();
    return ctx_.stmt<ObserveStmt>(l, x->dist, ms(x->params), m(x->value));
  }
  case StmtKind::Condition:
    return ctx_.stmt<ConditionStmt>(l, m(s->as<ConditionStmt>()->cond));
  case StmtKind::Factor:
    return ctx_.stmt<FactorStmt>(l, m(s->as<FactorStmt>()->logWeight));
  case StmtKind::Assert: {
    auto* x = s->as<AssertStmt>();
    return ctx_.stmt<AssertStmt>(l, m(x->cond), x->message);
  }
  case StmtKind::If: {
    auto* x = s->as<IfStmt>();
    return ctx_.stmt<IfStmt>(l, m(x->cond), mutateBlock(x->thenBody), mutateBlock(x->elseBody));
  }
  case StmtKind::For: {
    auto* x = s->as<ForStmt>();
    return ctx_.stmt<ForStmt>(l, x->index, x->lo, x->hi, mutateBlock(x->body));
  }
  case StmtKind::Call: {
    auto* x = s->as<CallStmt>();
    return ctx_.stmt<CallStmt>(l, x->results, x->callee, ms(x->args), x->site, ms(x->siteIndices));
  }
  }
  std::abort();
}

Block ExprMutator::mutateBlock(const Block& b) {
  Block out;
  out.reserve(b.size());
  for (Stmt s : b)
    out.push_back(mutateStmt(s));
  return out;
}

} // namespace chassis::ir
