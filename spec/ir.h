// The core IR of Chassis: one typed representation that every model (a symbolic module, a
// network, a composition of both) lowers to, and that every back end (interpreter, Z3 encoder,
// bound propagation, LLVM code generator, printers) visits. The node list is written once in
// spec/ir_nodes.def; this header generates the kind enums, the visitors and the mutator from it.
//
// ================================== SEMANTICS ==================================
// Values. bool, int, real, enum (an int in [0, #constants)), and fixed-size arrays of those
//   (any number of dimensions, outermost first). `real` means the mathematical reals: a verdict
//   of the verifier is a statement about real arithmetic. The interpreter executes in IEEE
//   float64, which approximates it (rounding in every operation; exp/log/tanh/sigmoid to within
//   a few ulp). int means the integers; the interpreter holds them exactly up to 2^53 and reports
//   an error beyond. Every expression is total on its domain and pure: it reads variables, never
//   writes them. The partial operations are errors, never NaN: division (and %) by zero, log of
//   x <= 0, sqrt of x < 0, an index outside [0, n), a call whose argument is outside the callee's
//   declared input range, and any operation whose float64 result is NaN. An error carries the
//   SourceLoc of the statement being executed.
// Evaluation order. Statements run in order. Within an expression, operands are evaluated left
//   to right; `&&`, `||`, `=>` short-circuit and `select` evaluates only the chosen branch, so
//   a guarded partial operation (x != 0 && 1/x > 2) is not an error.
// Variables. An input is bound by the caller. A Let binds a local once; an Assign overwrites an
//   output or a local (arrays are updated whole: y = update(y, i, v)). Arrays start as all zeros
//   (false, 0, 0.0, the first enum constant) and so do outputs; reading an output before it is
//   assigned gives that zero. A For loop runs its body for i = lo, lo+1, ..., hi-1 (constant
//   bounds; it is kept as a loop, the verifier unrolls it).
// Probability. A function denotes a weighted measure over traces. A trace maps each address
//   (call-site path / name [loop indices], e.g. `Sensor/noise` or `theta[3]`) to a value.
//   - `v ~ D(params)` at address a: draws v from D (prior); the trace's prior density gains
//     log p_D(v); v is then an ordinary value. Invalid params are an error.
//   - `observe(D(params), x)`: the trace's weight gains log p_D(x) (a density for continuous D,
//     a mass for discrete D; -inf when x is outside the support). Nothing is drawn.
//   - `factor(w)`: the weight gains w (w is a log weight, a real; -inf allowed, NaN an error).
//   - `condition(b)`: when b is false the weight becomes 0 (log weight -inf) and the trace is
//     marked as failing the condition; execution continues (so every output is defined).
//   The measure of a function is: trace t has prior density prod p_D(v) over its samples, times
//   the weight exp(log-likelihood + factors) * [all conditions hold]; the posterior is that
//   measure normalised. A function with none of sample/observe/condition/factor (directly or
//   through a CallStmt) is deterministic: it denotes a function from inputs to outputs, and only
//   such functions may appear in a Call expression (a pure node, hash-consed, evaluated once per
//   distinct argument tuple in a back end's discretion). Random functions are called by a Call
//   statement, whose call-site name prefixes the addresses of its choices.
// Asserts. `assert(b, msg)` states that b holds on every execution in the support (every trace
//   of positive prior density, whatever the weight). The interpreter reports a false assert as an
//   error at the assert's location; the verifier proves it or gives a counterexample.
// Properties (ir::Property) are about functions: forall/exists over boxes, enums and booleans of
//   an expression over Call expressions; always[M](e): e holds for every trace in M's support;
//   P[M](event | given) cmp bound and E[M](expr) cmp bound under M's posterior.
// ===============================================================================
//
// Hash-consing. Expression nodes are immutable and interned in their Context: building the same
// structure twice returns the same pointer, so pointer equality is structural equality and a
// shared subterm is one node (encoded once by a back end). Variables are unique by identity (each
// newVar is a distinct node). Statements are immutable but not interned (two equal statements are
// two effects). Nodes live as long as their Context (owned by the Program). A Context is not
// thread-safe for building; reading a finished Program from several threads is safe.
#pragma once

#include "spec/dist_kind.h"
#include "spec/error.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace chassis::ir {

// ------------------------------------------------------------------------------------------------
// Kinds and operators (generated from ir_nodes.def)

enum class ExprKind : uint8_t {
#define CHASSIS_IR_EXPR(K) K,
#include "spec/ir_nodes.def"
};
enum class StmtKind : uint8_t {
#define CHASSIS_IR_STMT(K) K,
#include "spec/ir_nodes.def"
};
enum class UnOp : uint8_t {
#define CHASSIS_IR_UNOP(N, S) N,
#include "spec/ir_nodes.def"
};
enum class BinOp : uint8_t {
#define CHASSIS_IR_BINOP(N, S) N,
#include "spec/ir_nodes.def"
};

std::string_view kindName(ExprKind k);
std::string_view kindName(StmtKind k);
std::string_view spelling(UnOp op);  // "-", "!", "abs", ...
std::string_view spelling(BinOp op); // "+", "<=", "min", ...
/// True for the operators printed infix (arithmetic, comparison, logic).
bool isInfix(BinOp op);

// ------------------------------------------------------------------------------------------------
// Types

enum class ScalarKind : uint8_t { Bool, Int, Real, Enum, Tuple };

/// A type: a scalar kind (with its enum id for Enum) and array dimensions, outermost first
/// (empty for a scalar). Tuple is the type of a Call node (read its outputs with CallResult).
struct Type {
  ScalarKind scalar = ScalarKind::Real;
  int enumId = -1;       // index into Context::enums() when scalar == Enum
  std::vector<int> dims; // array lengths, outermost first

  static Type boolean() { return {ScalarKind::Bool, -1, {}}; }
  static Type integer() { return {ScalarKind::Int, -1, {}}; }
  static Type real() { return {ScalarKind::Real, -1, {}}; }
  static Type enumeration(int id) { return {ScalarKind::Enum, id, {}}; }
  static Type tuple() { return {ScalarKind::Tuple, -1, {}}; }
  /// `elem`[n]: an array of n elements of type elem (elem may itself be an array).
  static Type array(const Type& elem, int n);

  bool isScalar() const { return dims.empty() && scalar != ScalarKind::Tuple; }
  bool isArray() const { return !dims.empty(); }
  bool is(ScalarKind k) const { return dims.empty() && scalar == k; }
  bool isNumeric() const { return is(ScalarKind::Int) || is(ScalarKind::Real); }
  /// A 1-D array of ints or reals.
  bool isNumericVector() const {
    return dims.size() == 1 && (scalar == ScalarKind::Int || scalar == ScalarKind::Real);
  }
  /// The element type of an array (its first dimension dropped).
  Type element() const;
  /// Whether the elements are arrays themselves (element().isArray(), without building it:
  /// the interpreter asks at every in-place element write).
  bool elementIsArray() const { return dims.size() > 1; }
  int length() const { return dims.empty() ? 0 : dims[0]; }
  /// Number of scalars in a value of this type (1 for a scalar).
  size_t numScalars() const;
  /// The scalar type of this type's elements (dims dropped).
  Type scalarType() const { return {scalar, enumId, {}}; }

  friend bool operator==(const Type&, const Type&) = default;
};

struct EnumDecl {
  std::string name;
  std::vector<std::string> constants;
  SourceLoc loc;
};

// ------------------------------------------------------------------------------------------------
// Expressions

class Context;
class Function;
class ExprNode;
using Expr = const ExprNode*;

/// A dense affine layer y = W x + b, W row-major rows x cols; stored without Eigen so spec/ stays
/// free of it. Shared by pointer: a network's weights are never copied.
struct DenseLayer {
  int rows = 0, cols = 0;
  std::shared_ptr<const std::vector<double>> weights; // rows * cols, row-major
  std::shared_ptr<const std::vector<double>> bias;    // rows
  double w(int r, int c) const { return (*weights)[size_t(r) * cols + c]; }
  double b(int r) const { return (*bias)[r]; }
};

enum class VarRole : uint8_t { Input, Output, Local, LoopIndex, Random, Quantified };
std::string_view roleName(VarRole r);

/// The base of every expression node. The payload fields are interpreted by the subclasses'
/// accessors; back ends use the subclasses (via the visitors or `as<T>()`).
class ExprNode {
public:
  ExprKind kind() const { return kind_; }
  const Type& type() const { return type_; }
  std::span<const Expr> operands() const { return ops_; }
  Expr operand(size_t i) const { return ops_[i]; }
  size_t numOperands() const { return ops_.size(); }
  /// Creation order within the Context: a deterministic key for maps and sorting.
  uint32_t id() const { return id_; }
  size_t hash() const { return hash_; }

  template <typename T> const T* as() const {
    return kind_ == T::kKind ? static_cast<const T*>(this) : nullptr;
  }
  template <typename T> bool is() const { return kind_ == T::kKind; }

  ExprNode(const ExprNode&) = default;

protected:
  friend class Context;
  friend struct ExprNodeHash;
  friend struct ExprNodeEq;
  ExprNode() = default;

  ExprKind kind_ = ExprKind::Const;
  Type type_;
  std::vector<Expr> ops_;
  uint32_t id_ = 0;
  size_t hash_ = 0;
  // Payload.
  int64_t i_ = 0;                // Const: int/bool/enum value; Var: unique variable id
  int a_ = 0, b_ = 0;            // Unary/Binary: operator; CallResult: index; Var: role, slot
  double d_ = 0;                 // Const: real value
  const Function* fn_ = nullptr; // Call
  std::shared_ptr<const DenseLayer> layer_; // Affine
  std::string name_;                        // Var
};

#define CHASSIS_IR_NODE_BOILERPLATE(K)                                                             \
  static constexpr ExprKind kKind = ExprKind::K;                                                   \
  explicit K(const ExprNode& n) : ExprNode(n) {}

/// A constant. `asDouble()` is its value as the interpreter holds it (bool 0/1, enum index).
class Const : public ExprNode {
public:
  CHASSIS_IR_NODE_BOILERPLATE(Const)
  bool boolValue() const { return i_ != 0; }
  int64_t intValue() const { return i_; } // Int, Bool, Enum
  double realValue() const { return d_; } // Real
  double asDouble() const { return type_.scalar == ScalarKind::Real ? d_ : double(i_); }
};

/// A variable. Unique by identity. `slot()` indexes the frame of the function (or property) that
/// owns it.
class Var : public ExprNode {
public:
  CHASSIS_IR_NODE_BOILERPLATE(Var)
  const std::string& name() const { return name_; }
  VarRole role() const { return VarRole(a_); }
  int slot() const { return b_; }
  int64_t varId() const { return i_; }
};

class Unary : public ExprNode {
public:
  CHASSIS_IR_NODE_BOILERPLATE(Unary)
  UnOp op() const { return UnOp(a_); }
  Expr arg() const { return ops_[0]; }
};

class Binary : public ExprNode {
public:
  CHASSIS_IR_NODE_BOILERPLATE(Binary)
  BinOp op() const { return BinOp(a_); }
  Expr lhs() const { return ops_[0]; }
  Expr rhs() const { return ops_[1]; }
};

class Select : public ExprNode {
public:
  CHASSIS_IR_NODE_BOILERPLATE(Select)
  Expr cond() const { return ops_[0]; }
  Expr ifTrue() const { return ops_[1]; }
  Expr ifFalse() const { return ops_[2]; }
};

class ArrayLit : public ExprNode {
public:
  CHASSIS_IR_NODE_BOILERPLATE(ArrayLit)
  std::span<const Expr> elements() const { return ops_; }
};

class Index : public ExprNode {
public:
  CHASSIS_IR_NODE_BOILERPLATE(Index)
  Expr array() const { return ops_[0]; }
  Expr index() const { return ops_[1]; }
};

class Update : public ExprNode {
public:
  CHASSIS_IR_NODE_BOILERPLATE(Update)
  Expr array() const { return ops_[0]; }
  Expr index() const { return ops_[1]; }
  Expr value() const { return ops_[2]; }
};

/// A call of a deterministic function (see the semantics above); type Tuple.
class Call : public ExprNode {
public:
  CHASSIS_IR_NODE_BOILERPLATE(Call)
  const Function& callee() const { return *fn_; }
  std::span<const Expr> args() const { return ops_; }
};

class CallResult : public ExprNode {
public:
  CHASSIS_IR_NODE_BOILERPLATE(CallResult)
  const Call& call() const { return *static_cast<const Call*>(ops_[0]); }
  int index() const { return a_; }
};

class Affine : public ExprNode {
public:
  CHASSIS_IR_NODE_BOILERPLATE(Affine)
  const DenseLayer& layer() const { return *layer_; }
  Expr input() const { return ops_[0]; }
};

class VecRelu : public ExprNode {
public:
  CHASSIS_IR_NODE_BOILERPLATE(VecRelu)
  Expr input() const { return ops_[0]; }
};
#undef CHASSIS_IR_NODE_BOILERPLATE

// ------------------------------------------------------------------------------------------------
// Statements

class StmtNode;
using Stmt = const StmtNode*;
using Block = std::vector<Stmt>;

class StmtNode {
public:
  StmtKind kind() const { return kind_; }
  const SourceLoc& loc() const { return loc_; }
  template <typename T> const T* as() const {
    return kind_ == T::kKind ? static_cast<const T*>(this) : nullptr;
  }
  virtual ~StmtNode() = default;

protected:
  StmtNode(StmtKind k, SourceLoc loc) : kind_(k), loc_(std::move(loc)) {}
  StmtKind kind_;
  SourceLoc loc_;
};

#define CHASSIS_IR_STMT_KIND(K) static constexpr StmtKind kKind = StmtKind::K;

struct LetStmt : StmtNode {
  CHASSIS_IR_STMT_KIND(Let)
  const Var* var;
  Expr value;
  LetStmt(SourceLoc l, const Var* v, Expr e) : StmtNode(kKind, std::move(l)), var(v), value(e) {}
};
struct AssignStmt : StmtNode {
  CHASSIS_IR_STMT_KIND(Assign)
  const Var* var;
  Expr value;
  AssignStmt(SourceLoc l, const Var* v, Expr e) : StmtNode(kKind, std::move(l)), var(v), value(e) {}
};
/// `var ~ dist(params)`; the address is name[indices...] under the enclosing call sites.
/// Categorical's one parameter is a real-vector expression; every other parameter is a scalar.
struct SampleStmt : StmtNode {
  CHASSIS_IR_STMT_KIND(Sample)
  const Var* var;
  DistKind dist;
  std::vector<Expr> params;
  std::string name;
  std::vector<Expr> indices; // int expressions (usually loop indices)
  /// A real expression added to the unconstrained coordinate inside the sampler's interval
  /// transform, x = lo + (hi - lo) sigmoid(u + shift), or null (no shift). Only NUTS reads it:
  /// it moves where u lands, not the distribution. A simplex's stick-breaking sets it to Stan's
  /// centring offset log(1 / (K - 1 - k)) (spec/lower.cpp), so that u = 0 is the uniform simplex.
  Expr transformShift = nullptr;
  SampleStmt(SourceLoc l, const Var* v, DistKind d, std::vector<Expr> p, std::string n,
             std::vector<Expr> idx, Expr shift = nullptr)
      : StmtNode(kKind, std::move(l)), var(v), dist(d), params(std::move(p)), name(std::move(n)),
        indices(std::move(idx)), transformShift(shift) {}
};
struct ObserveStmt : StmtNode {
  CHASSIS_IR_STMT_KIND(Observe)
  DistKind dist;
  std::vector<Expr> params;
  Expr value;
  ObserveStmt(SourceLoc l, DistKind d, std::vector<Expr> p, Expr v)
      : StmtNode(kKind, std::move(l)), dist(d), params(std::move(p)), value(v) {}
};
struct ConditionStmt : StmtNode {
  CHASSIS_IR_STMT_KIND(Condition)
  Expr cond;
  ConditionStmt(SourceLoc l, Expr c) : StmtNode(kKind, std::move(l)), cond(c) {}
};
struct FactorStmt : StmtNode {
  CHASSIS_IR_STMT_KIND(Factor)
  Expr logWeight;
  FactorStmt(SourceLoc l, Expr w) : StmtNode(kKind, std::move(l)), logWeight(w) {}
};
struct AssertStmt : StmtNode {
  CHASSIS_IR_STMT_KIND(Assert)
  Expr cond;
  std::string message; // the user's message, or the asserted source text
  AssertStmt(SourceLoc l, Expr c, std::string m)
      : StmtNode(kKind, std::move(l)), cond(c), message(std::move(m)) {}
};
struct IfStmt : StmtNode {
  CHASSIS_IR_STMT_KIND(If)
  Expr cond;
  Block thenBody, elseBody;
  IfStmt(SourceLoc l, Expr c, Block t, Block e)
      : StmtNode(kKind, std::move(l)), cond(c), thenBody(std::move(t)), elseBody(std::move(e)) {}
};
struct ForStmt : StmtNode {
  CHASSIS_IR_STMT_KIND(For)
  const Var* index; // role LoopIndex, type int
  int64_t lo, hi;   // i = lo .. hi-1
  Block body;
  ForStmt(SourceLoc l, const Var* i, int64_t lo_, int64_t hi_, Block b)
      : StmtNode(kKind, std::move(l)), index(i), lo(lo_), hi(hi_), body(std::move(b)) {}
};
/// `(results...) = callee(args...)` at call site name[indices]: the addresses of the callee's
/// random choices are prefixed with "name[indices]/". results[k] receives output k (a result
/// may be null when the output is unused).
struct CallStmt : StmtNode {
  CHASSIS_IR_STMT_KIND(Call)
  std::vector<const Var*> results;
  const Function* callee;
  std::vector<Expr> args;
  std::string site;
  std::vector<Expr> siteIndices;
  CallStmt(SourceLoc l, std::vector<const Var*> r, const Function* f, std::vector<Expr> a,
           std::string s, std::vector<Expr> si)
      : StmtNode(kKind, std::move(l)), results(std::move(r)), callee(f), args(std::move(a)),
        site(std::move(s)), siteIndices(std::move(si)) {}
};
#undef CHASSIS_IR_STMT_KIND

// ------------------------------------------------------------------------------------------------
// Functions and programs

enum class FunctionKind : uint8_t {
  Module,  // a .chs module
  Network, // a network given as layer nodes (built by neural/'s loader)
  External // declared but without a body (e.g. a network whose file is not loaded): calling it
           // is a run-time error naming `externalFile`
};

struct Param {
  const Var* var;
  std::optional<std::pair<double, double>> range; // closed [lo, hi] the caller must respect
};

/// A callable: inputs, outputs, a body. Built once by lowering (or by a network loader), then
/// read-only. Variables created with newVar get a slot in this function's frame.
class Function {
public:
  Function(Context& ctx, std::string name, FunctionKind kind, SourceLoc loc)
      : ctx_(&ctx), name_(std::move(name)), kind_(kind), loc_(std::move(loc)) {}

  const std::string& name() const { return name_; }
  FunctionKind kind() const { return kind_; }
  const SourceLoc& loc() const { return loc_; }
  const std::vector<Param>& inputs() const { return inputs_; }
  const std::vector<const Var*>& outputs() const { return outputs_; }
  const Block& body() const { return body_; }
  int numSlots() const { return int(vars_.size()); }
  /// Every variable of this function, by slot.
  const std::vector<const Var*>& vars() const { return vars_; }
  /// True when the body samples, observes, conditions or factors (directly or via a CallStmt).
  bool isRandom() const { return random_; }
  /// Whether the body contains an Observe, Factor or Condition (directly or via a CallStmt).
  bool hasWeight() const { return weighted_; }
  const std::string& externalFile() const { return externalFile_; }
  std::string doc; // the module's documentation comment, if any

  /// Index of the output named `name`, or -1.
  int outputIndex(std::string_view name) const;
  /// Index of the input named `name`, or -1.
  int inputIndex(std::string_view name) const;

  // Building.
  const Var* addInput(std::string name, Type t,
                      std::optional<std::pair<double, double>> range = std::nullopt);
  const Var* addOutput(std::string name, Type t);
  const Var* newVar(std::string name, Type t, VarRole role);
  /// Sets the body and computes isRandom/hasWeight.
  void setBody(Block body);
  void setExternalFile(std::string f) { externalFile_ = std::move(f); }

private:
  Context* ctx_;
  std::string name_;
  FunctionKind kind_;
  SourceLoc loc_;
  std::vector<Param> inputs_;
  std::vector<const Var*> outputs_;
  Block body_;
  std::vector<const Var*> vars_;
  bool random_ = false, weighted_ = false;
  std::string externalFile_;
};

enum class PropertyKind : uint8_t { Forall, Exists, Always, Probability, Expectation };
std::string_view propertyKindName(PropertyKind k);

/// A quantified variable and its domain: a box [lo, hi] for int/real; every constant of an
/// enum (lo = 0, hi = #constants - 1); {false, true} for bool (lo = 0, hi = 1). `exists` says
/// which quantifier binds it.
struct QuantVar {
  const Var* var;
  double lo = 0, hi = 0;
  bool exists = false;
};

/// A property. Forall/Exists: `body` (bool) under the quantifier prefix `vars`, outermost first
/// (`forall s: exists l: body` is vars = [s (forall), l (exists)]; `kind` is the outermost
/// quantifier, Forall when there are no variables); the variables have role Quantified and slots
/// in this property's frame of `numSlots` slots; the body calls modules with Call expressions.
/// Always/Probability/Expectation: `module` is the function run; `body` is the event (bool; for
/// Expectation the real or int expression) over the module's input and output variables, read after
/// a run; `given` (may be null) conditions P; the comparison `cmp` (Lt, Le, Gt, Ge) against
/// `bound`.
struct Property {
  std::string name;
  PropertyKind kind = PropertyKind::Forall;
  std::vector<QuantVar> vars;
  int numSlots = 0;
  Expr body = nullptr;
  const Function* module = nullptr;
  Expr given = nullptr;
  BinOp cmp = BinOp::Le;
  double bound = 0;
  SourceLoc loc;
  std::string doc;

  const Var* addVar(Context& ctx, std::string name, Type t, double lo, double hi,
                    bool exists = false);
};

/// Owns the nodes: the interning table of expressions, the statements, the enum declarations.
class Context {
public:
  Context() = default;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context();

  // Enums.
  int addEnum(EnumDecl e);
  const std::vector<EnumDecl>& enums() const { return enums_; }
  /// "bool", "int", "real", "Color", "real[3]", "int[2][4]", "tuple".
  std::string typeName(const Type& t) const;

  // Constants.
  Expr boolConst(bool v);
  Expr intConst(int64_t v);
  Expr realConst(double v); // v must not be NaN
  Expr enumConst(int enumId, int64_t index);
  /// The zero value of a scalar type (false, 0, 0.0, first enum constant).
  Expr zero(const Type& scalarType);

  // Variables (usually created through Function::newVar / Property::addVar).
  const Var* newVar(std::string name, Type t, VarRole role, int slot);

  // Operations. The try* builders return an error message on an ill-typed operation; the plain
  // builders treat one as a bug and abort with the message (they are for code that has already
  // checked its types, e.g. lowering from the type-checked AST).
  Expected<Expr> tryUnary(UnOp op, Expr a);
  Expected<Expr> tryBinary(BinOp op, Expr a, Expr b);
  Expected<Expr> trySelect(Expr c, Expr a, Expr b);
  /// `elem` is the element type (needed when `elems` is empty).
  Expected<Expr> tryArrayLit(const Type& elem, std::vector<Expr> elems);
  Expected<Expr> tryIndex(Expr a, Expr i);
  Expected<Expr> tryUpdate(Expr a, Expr i, Expr v);
  Expected<Expr> tryCall(const Function& f, std::vector<Expr> args);
  Expected<Expr> tryCallResult(Expr call, int index);
  Expected<Expr> tryAffine(std::shared_ptr<const DenseLayer> layer, Expr x);
  Expected<Expr> tryVecRelu(Expr x);

  Expr unary(UnOp op, Expr a) { return orDie(tryUnary(op, a)); }
  Expr binary(BinOp op, Expr a, Expr b) { return orDie(tryBinary(op, a, b)); }
  Expr select(Expr c, Expr a, Expr b) { return orDie(trySelect(c, a, b)); }
  Expr arrayLit(const Type& elem, std::vector<Expr> elems) {
    return orDie(tryArrayLit(elem, std::move(elems)));
  }
  Expr index(Expr a, Expr i) { return orDie(tryIndex(a, i)); }
  Expr update(Expr a, Expr i, Expr v) { return orDie(tryUpdate(a, i, v)); }
  Expr call(const Function& f, std::vector<Expr> args) {
    return orDie(tryCall(f, std::move(args)));
  }
  Expr callResult(Expr call, int index) { return orDie(tryCallResult(call, index)); }
  Expr affine(std::shared_ptr<const DenseLayer> layer, Expr x) {
    return orDie(tryAffine(std::move(layer), x));
  }
  Expr vecRelu(Expr x) { return orDie(tryVecRelu(x)); }

  /// The node `e` with its operands replaced by `ops` (same kind and payload), re-checked and
  /// re-interned. Used by the mutator.
  Expected<Expr> rebuild(Expr e, std::vector<Expr> ops);

  /// Statements: allocated here, immutable once built.
  template <typename T, typename... Args> const T* stmt(Args&&... args) {
    auto p = std::make_unique<T>(std::forward<Args>(args)...);
    const T* raw = p.get();
    stmts_.push_back(std::move(p));
    return raw;
  }

  /// Number of distinct expression nodes interned so far.
  size_t numExprs() const { return nodes_.size(); }

  /// Thrown by the interning of a new node once numExprs() has reached the limit set by
  /// setNodeLimit. Only the lowering sets one (spec/lower.cpp kMaxLoweredNodes), for the time it
  /// runs, and catches this at its entry, returning a located error: a few bytes of source can
  /// otherwise ask for millions of nodes (an elementwise builtin is expanded element by element).
  struct NodeLimitExceeded {
    size_t limit;
  };
  /// The most expression nodes this context may hold (0: no limit, the default).
  void setNodeLimit(size_t n) { nodeLimit_ = n; }

private:
  static Expr orDie(Expected<Expr> e) {
    if (!e) {
      std::fprintf(stderr, "chassis: internal error: ill-typed IR: %s\n",
                   e.error().message.c_str());
      std::abort();
    }
    return *e;
  }
  Expr intern(ExprNode candidate);
  Expected<Type> checkCall(const Function& f, std::span<const Expr> args);

  struct Hash {
    size_t operator()(Expr e) const { return e->hash(); }
  };
  struct Eq {
    bool operator()(Expr a, Expr b) const;
  };
  std::unordered_set<Expr, Hash, Eq> table_;
  std::vector<std::unique_ptr<ExprNode>> nodes_;
  std::vector<std::unique_ptr<StmtNode>> stmts_;
  std::vector<EnumDecl> enums_;
  int64_t nextVarId_ = 0;
  size_t nodeLimit_ = 0;
};

/// A lowered program: the functions in topological order (callees before callers), the enums
/// (in the Context) and the properties. Move-only: nodes point into its Context.
class Program {
public:
  Program() : ctx_(std::make_unique<Context>()) {}
  Program(Program&&) = default;
  Program& operator=(Program&&) = default;

  Context& ctx() { return *ctx_; }
  const Context& ctx() const { return *ctx_; }

  /// Appends a function (so add callees first).
  Function& addFunction(std::string name, FunctionKind kind, SourceLoc loc = {});
  const std::vector<std::unique_ptr<Function>>& functions() const { return functions_; }
  const Function* findFunction(std::string_view name) const;
  Function* findFunction(std::string_view name);

  std::vector<Property> properties;

private:
  std::unique_ptr<Context> ctx_;
  std::vector<std::unique_ptr<Function>> functions_;
};

// ------------------------------------------------------------------------------------------------
// Visitors (generated from ir_nodes.def)

/// Dispatches on the node kind to one pure virtual method per node: a back end that does not
/// handle every node kind does not compile. Memoisation over the DAG is the subclass's choice
/// (key on the node pointer or `id()`).
template <typename R, typename... Args> class ExprVisitor {
public:
  virtual ~ExprVisitor() = default;
  R visit(Expr e, Args... args) {
    switch (e->kind()) {
#define CHASSIS_IR_EXPR(K)                                                                         \
  case ExprKind::K:                                                                                \
    return visit##K(static_cast<const K&>(*e), args...);
#include "spec/ir_nodes.def"
    }
    std::abort(); // unreachable: every kind is a case above
  }

protected:
#define CHASSIS_IR_EXPR(K) virtual R visit##K(const K& node, Args... args) = 0;
#include "spec/ir_nodes.def"
};

/// The same for statements.
template <typename R, typename... Args> class StmtVisitor {
public:
  virtual ~StmtVisitor() = default;
  R visit(Stmt s, Args... args) {
    switch (s->kind()) {
#define CHASSIS_IR_STMT(K)                                                                         \
  case StmtKind::K:                                                                                \
    return visit##K(static_cast<const K##Stmt&>(*s), args...);
#include "spec/ir_nodes.def"
    }
    std::abort();
  }

protected:
#define CHASSIS_IR_STMT(K) virtual R visit##K(const K##Stmt& node, Args... args) = 0;
#include "spec/ir_nodes.def"
};

/// Rewrites expressions bottom-up, memoised over the DAG (a shared subterm is rewritten once).
/// Each visitK's default rebuilds the node from its rewritten operands (returning the same node
/// when nothing changed); override the ones to rewrite. `mutateBlock` rewrites every expression
/// of a block, giving new statements.
class ExprMutator {
public:
  explicit ExprMutator(Context& ctx) : ctx_(ctx) {}
  virtual ~ExprMutator() = default;

  Expr mutate(Expr e);
  Block mutateBlock(const Block& b);
  Stmt mutateStmt(Stmt s);

protected:
  /// Rewrites the operands of `e` and rebuilds it.
  Expr mutateOperands(Expr e);
#define CHASSIS_IR_EXPR(K)                                                                         \
  virtual Expr visit##K(const K& node) {                                                           \
    return mutateOperands(&node);                                                                  \
  }
#include "spec/ir_nodes.def"

  Context& ctx_;

private:
  Expr dispatch(Expr e);
  std::vector<Expr> memo_; // by node id; null when not yet rewritten
};

/// Calls `f` on every expression directly held by statement `s` (not those inside nested blocks).
template <typename F> void forEachExpr(Stmt s, F&& f) {
  switch (s->kind()) {
  case StmtKind::Let:
    f(s->as<LetStmt>()->value);
    break;
  case StmtKind::Assign:
    f(s->as<AssignStmt>()->value);
    break;
  case StmtKind::Sample:
    for (Expr e : s->as<SampleStmt>()->params)
      f(e);
    for (Expr e : s->as<SampleStmt>()->indices)
      f(e);
    if (Expr e = s->as<SampleStmt>()->transformShift) f(e);
    break;
  case StmtKind::Observe:
    for (Expr e : s->as<ObserveStmt>()->params)
      f(e);
    f(s->as<ObserveStmt>()->value);
    break;
  case StmtKind::Condition:
    f(s->as<ConditionStmt>()->cond);
    break;
  case StmtKind::Factor:
    f(s->as<FactorStmt>()->logWeight);
    break;
  case StmtKind::Assert:
    f(s->as<AssertStmt>()->cond);
    break;
  case StmtKind::If:
    f(s->as<IfStmt>()->cond);
    break;
  case StmtKind::For:
    break;
  case StmtKind::Call:
    for (Expr e : s->as<CallStmt>()->args)
      f(e);
    for (Expr e : s->as<CallStmt>()->siteIndices)
      f(e);
    break;
  }
}
/// Calls `f` on every statement of `b`, recursively (pre-order).
template <typename F> void forEachStmt(const Block& b, F&& f) {
  for (Stmt s : b) {
    f(s);
    if (auto* i = s->as<IfStmt>()) {
      forEachStmt(i->thenBody, f);
      forEachStmt(i->elseBody, f);
    } else if (auto* l = s->as<ForStmt>()) {
      forEachStmt(l->body, f);
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Printing (spec/ir_printer.cpp)

/// The whole program as deterministic, readable text (what `chassis check --emit=ir` prints).
void print(const Program& program, std::ostream& os);
void print(const Function& f, const Context& ctx, std::ostream& os);
std::string str(Expr e, const Context& ctx);
/// A real constant as it is printed: shortest round-trip digits, always with '.' or 'e'.
std::string formatReal(double v);

} // namespace chassis::ir
