// The abstract syntax tree of the .chs language, as the parser builds it and the checker completes
// it. It is the contract between the front end (lexer, parser, checker: spec/frontend.h) and the
// lowering to the core IR (spec/lower*.h): lowering reads a *checked* Program and may assume every
// guarantee listed under "After checking" below without re-checking it.
//
// Shape. A Program holds the parsed files (the root file and everything it imports, each once);
// each file holds its declarations (Decl: import, enum, module, network, property, task). Module
// bodies are lists of statements (Stmt); statements and properties contain expressions (Expr). Stmt
// and Expr are "fat" nodes: one struct per family with a kind tag and the fields listed per kind
// below (unused fields stay empty). Children are owned through unique_ptr; declarations of
// variables (VarDecl) are owned by their module / network / property and never move, so pointers
// to them are stable for the Program's lifetime. Every node carries the SourceLoc of the token
// the user must look at (file, 1-based line and column).
//
// After checking (a Program returned by loadProgram / fromString without errors), lowering may
// assume:
//  * Every Expr has `type` set to a value type (never Error; Distribution only on Dist nodes).
//  * Kinds left in the tree are exactly: IntLit, RealLit, BoolLit, EnumConst, VarRef, Index,
//    ArrayLit, Unary, Binary, Cond, Promote, Builtin, Call, Dist, and in properties also Quant,
//    Always, Prob, Expect. The parse-only kinds Name and Member never survive checking:
//      - a Name resolves to a VarRef (`var` points at its VarDecl) or an EnumConst;
//      - `E.C` (enum-qualified constant) becomes EnumConst;
//      - `M(args).out` becomes the Call node itself with `outputIndex` = the index of `out`;
//      - a Call used directly as a value has a callee with exactly one output, outputIndex 0.
//    A parsed call `f(args)` becomes Builtin (builtin set), Dist (dist set) or Call (callee set).
//  * Implicit int -> real promotions are explicit Promote nodes (operand int or int[N], result
//    real or real[N]). Binary arithmetic + - * on two ints is int; otherwise both operands are
//    real. `/` is always real division (ints are promoted). `%` takes two ints.
//    Comparisons < <= > >= take two numbers of the same type (after promotion); == and != take
//    two scalars of the same type (numbers after promotion, bools, or the same enum).
//    && || => and ! take bools. Unary - takes a number. Cond's branches have the same type.
//  * Builtin argument types are as documented at `enum class Builtin`.
//  * Every Call's `args` match the callee's inputs in number and type (after promotion); input
//    ranges are NOT checked statically at calls (the runtime / verifier assume or check them).
//  * Dist nodes appear only as Stmt::value of Sample and Observe and as the first argument of the
//    builtin lpdf (whose second argument has the draw type: int promoted for a real D); their
//    args match the
//    distribution's parameters (spec/dist_kind.h: Real params are real after promotion, Int
//    params are int, RealArray is real[N] after promotion).
//  * Index: base is an array, index is int. A constant index is within bounds; a non-constant
//    index is checked at run time (lowering's business).
//  * Statements: every output of a module is assigned (by `=` or `~`) exactly once on every
//    path and never read before it is assigned (see "Assignment rule" in spec/parser.h).
//    Inputs and let bindings are never assigned. Sample targets are an output, a declared
//    `var` local, or a fresh Random variable; `x[i] ~ D` targets an array output or array local.
//  * For loops: `lo`/`hi` were constant integer expressions, evaluated into `from` / `to`
//    (half-open: from, from+1, ..., to-1; empty when to <= from). The loop index is a VarDecl
//    of kind LoopIndex, type int.
//  * Ranges: VarDecl::range is set (lo <= hi, evaluated) for inputs declared `in [lo, hi]` and
//    for box-quantified property variables.
//  * Enums: constants numbered 0.. in declaration order (EnumConstant::value, Expr::intValue).
//  * Program::order lists every module and network, callees before callers (the call graph is
//    acyclic: recursion is rejected). Names of enums, modules, networks, properties and tasks
//    are unique across the whole program.
//  * Property bodies are bool, of one of three shapes: always[M](e); P[M](..) or E[M](..)
//    compared (< <= > >=) with a constant number (either side); or forall/exists binders around
//    a body. Quant/Always/Prob/Expect appear nowhere else, and random modules (those that draw,
//    observe, condition or factor, or call such a module) are called only as the M of always/P/E.
//  * Property bodies are bool. Inside Always/Prob/Expect, VarRefs point at VarDecls of the
//    named module (its inputs, outputs, and top-level random choices).
//  * Tasks (TaskDecl) are resolved: `inputs` is a module that neither observes, conditions nor
//    factors, each of whose int / real inputs (or arrays of them) has a declared range or a box
//    entry; box entries name distinct int / real inputs of it, lo <= hi, inside the declared
//    range; `reference` is a deterministic module (no draw, observe, condition or factor,
//    directly or through calls), `labelVar` its bool, enum, int or real output; the reference's
//    inputs bind to the features of `inputs` (see TaskDecl); the network options are known,
//    unique and in range; `properties` point at the listed properties. Names of tasks share the
//    global namespace. Tasks are not lowered to the IR: `chassis compare` reads them from here.
#pragma once

#include "spec/dist_kind.h"
#include "spec/error.h"
#include "spec/types.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chassis::spec {

struct VarDecl;
struct CallableDecl;
struct ModuleDecl;
struct EnumDecl;

// ---------------------------------------------------------------------------------------------
// Types as written in source (resolved into a Type by the checker).

struct TypeExpr {
  SourceLoc loc;
  std::string name;        // "bool", "int", "real" or an enum name
  int64_t arrayLength = 0; // 0: a scalar; N >= 1: `name[N]`
  /// `name[T]`: the length is the int input T of the enclosing module, whose value the data of
  /// the run fixes (spec/data_sizes.h); lengthLoc is where T is written. The checker resolves it
  /// into the Type's length (arrayLength stays 0 here).
  std::string lengthName;
  SourceLoc lengthLoc;
  /// A matrix `name[N, K]`: the row length K, a literal (colsLength) or an int input's name
  /// (colsName, at colsLoc), resolved as the first length is. Both empty for a 1-D array.
  int64_t colsLength = 0;
  std::string colsName;
  SourceLoc colsLoc;
  bool isMatrix() const { return colsLength > 0 || !colsName.empty(); }
};

// ---------------------------------------------------------------------------------------------
// Expressions.

enum class ExprKind : uint8_t {
  IntLit,    // intValue
  RealLit,   // realValue
  BoolLit,   // boolValue
  Name,      // parse only: `name` (resolved to VarRef or EnumConst)
  Member,    // parse only: args[0] `.` name  (enum constant or call output)
  VarRef,    // var: the variable; name: as written
  EnumConst, // enumDecl, intValue = the constant's number; name = the constant's name
  Index,     // args[0][args[1]], or args[0][args[1], args[2]] (an element of a matrix)
  ArrayLit,  // [args...] (at least one element, all of the array's element type)
  Unary,     // unaryOp args[0]
  Binary,    // args[0] binaryOp args[1]
  Cond,      // if args[0] then args[1] else args[2]   (also written args[0] ? args[1] : args[2])
  Promote,   // int -> real of args[0] (scalar or elementwise on an array); inserted by checker
  Builtin,   // builtin(args...)
  Call,      // callee(args...) [.output]: name = callee's name; outputIndex = the output used
  Dist,      // dist(args...): a distribution (only under Sample / Observe)
  Quant,     // forall/exists quantVars: args[0]   (properties only; quantifier = isExists)
  Always,    // always[callee](args[0])            (properties only)
  Prob,      // P[callee](args[0] | args[1])       (properties only; args[1] null if no `|`)
  Expect,    // E[callee](args[0])                 (properties only)
};

enum class UnaryOp : uint8_t { Neg, Not };
// clang-format off
enum class BinaryOp : uint8_t {
  Add, Sub, Mul, Div, Mod,  // arithmetic
  Lt, Le, Gt, Ge, Eq, Ne,   // comparisons
  And, Or, Implies,         // logic (Implies: lowest precedence, right associative)
};
// clang-format on

/// The builtin functions. "Elementwise" ones also apply to an array, element by element, and
/// return an array of the same length.
///   min(a, b), max(a, b)   two numbers (or two arrays of equal length, elementwise);
///                          int if both int, else real
///   abs(x), relu(x)        a number, same type (elementwise)
///   exp log sqrt sigmoid tanh (x)  a number -> real (elementwise)
///   sum(a)                 int[N] -> int, real[N] -> real
///   dot(a, b)              two arrays of equal length -> int if both int, else real
///   argmax(a)              int[N] or real[N] -> int: the index of the first maximum
///   fabs(x)                the same as abs(x) (Stan's name)
///   square(x)              a number, same type (elementwise): x * x
///   pow(x, y)              two numbers -> real: x^y (see spec/LANGUAGE.md §5.3)
///   log_sum_exp(a, b)      two numbers -> real: log(exp(a) + exp(b)), computed stably
///   log_sum_exp(a)         int[N] / real[N] -> real: log(sum of exp(a[i]))
///   log_mix(theta, l1, l2) three numbers -> real: log(theta exp(l1) + (1 - theta) exp(l2))
///   lpdf(D(params), x)     args[0] is a Dist node (D's parameters checked as for observe), x
///                          the draw type of D (int promotes to a real D) -> real: log p_D(x)
enum class Builtin : uint8_t {
  Min,
  Max,
  Abs,
  Relu,
  Exp,
  Log,
  Sqrt,
  Sigmoid,
  Tanh,
  Sum,
  Dot,
  Argmax,
  Fabs,
  Square,
  Pow,
  LogSumExp,
  LogMix,
  Lpdf
};

/// "min", "max", ... ; and the reverse (nullopt if `name` is not a builtin).
const char* builtinName(Builtin b);
std::optional<Builtin> builtinFromName(std::string_view name);

const char* unaryOpSpelling(UnaryOp op);   // "-", "!"
const char* binaryOpSpelling(BinaryOp op); // "+", "<=", "&&", "=>", ...

/// The constrained arrays a flat prior may range over, `theta ~ Flat(simplex);` and
/// `c ~ Flat(ordered);` (spec/LANGUAGE.md, "Flat priors"): a whole real array drawn at once, or
/// every row of a real matrix (`P ~ Flat(simplex);`), or one row (`P[i] ~`; §5.9).
enum class FlatShape : uint8_t { None, Simplex, Ordered };

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind;
  SourceLoc loc; // the token to look at: a literal / name, an operator, a call's callee name
  Type type;     // set by the checker

  int64_t intValue = 0;   // IntLit; EnumConst: the constant's number
  double realValue = 0;   // RealLit
  bool boolValue = false; // BoolLit
  bool isExists = false;  // Quant: exists (true) or forall (false)
  std::string name;  // Name, Member (the field), VarRef, EnumConst, Call (callee), Builtin, Dist
  SourceLoc nameLoc; // Member / Call `.out`: where the field name is
  UnaryOp unaryOp = UnaryOp::Neg;
  BinaryOp binaryOp = BinaryOp::Add;
  std::vector<ExprPtr> args; // operands, per kind (see ExprKind)

  // Resolution (set by the checker).
  const VarDecl* var = nullptr;          // VarRef
  const EnumDecl* enumDecl = nullptr;    // EnumConst
  Builtin builtin = Builtin::Min;        // Builtin
  DistKind dist = DistKind::Bernoulli;   // Dist
  FlatShape flatShape = FlatShape::None; // Dist Flat: Flat(simplex) / Flat(ordered) (lowering)
  const CallableDecl* callee = nullptr;  // Call, Always, Prob, Expect
  int outputIndex = -1;                  // Call: index into callee->outputs
  std::string field;                     // Call: the output's name if written `.out`
  std::vector<const VarDecl*> quantVars; // Quant: the bound variables (owned by the property)

  int depth = 1; // height of this subtree (the parser bounds it)

  Expr(ExprKind k, SourceLoc l) : kind(k), loc(std::move(l)) {}
};

// ---------------------------------------------------------------------------------------------
// Variables: inputs, outputs, let bindings, mutable locals, loop indices, random choices and
// quantified property variables. Owned by their CallableDecl / PropertyDecl.

enum class VarKind : uint8_t {
  Input,      // a module / network input (read only)
  Output,     // a module / network output (assigned exactly once)
  Let,        // `let x = e;` (immutable)
  Local,      // `var x: T;` or `var x: T = e;` (mutable; zero-initialised if no `= e`)
  LoopIndex,  // `for i in a..b` (int, read only)
  Random,     // `x ~ D(...)` where x was not declared: a fresh random choice (read only after)
  Quantified, // a property's forall / exists variable
};

struct Range {
  double lo = 0, hi = 0; // inclusive bounds, lo <= hi (ints hold integral values)
};

struct VarDecl {
  std::string name;
  SourceLoc loc; // where it is declared
  VarKind kind = VarKind::Let;
  Type type;                        // set by the checker
  std::optional<TypeExpr> typeExpr; // as written, if written
  ExprPtr rangeLo, rangeHi;         // as written: `in [rangeLo, rangeHi]`
  std::optional<Range> range;       // evaluated by the checker
  /// Input / Output: the position in the parameter list. Other kinds: the position in the owner's
  /// `vars` (unique within the owner; usable as a slot number).
  int index = -1;
  /// Random / Local / Let declared at the top level of a module body (not inside if / for):
  /// true. Always / Prob / Expect can refer to top-level random choices by name.
  bool topLevel = false;
  /// An int input used as an array length (`y: real[T]`): the value the data of this run gives
  /// it. The checker fixes `range` to [value, value], so every back end sees a constant.
  std::optional<int64_t> sizeValue;
};

// ---------------------------------------------------------------------------------------------
// Statements.

enum class StmtKind : uint8_t {
  Let,       // let var [: T] = value;
  LetTuple,  // let (names[0], names[1], ...) = value;  value: a call of a module or network
             // with exactly names.size() outputs; vars[k] (kind Let) is bound to output k
  Var,       // var var: T [= value];
  Assign,    // target[index]? = value;   (targetVar: an output or a Local)
  Sample,    // target[index]? ~ value;   (value: a Dist; targetVar: Output, Local or new Random)
  Observe,   // observe(value, value2);   (value: a Dist; value2: the observed value)
  Condition, // condition(value);
  Factor,    // factor(value);            (value: real, a log-weight)
  Assert,    // assert value [: "message"];
  If,        // if value { body } else { elseBody }  (`else if` is an If alone in elseBody)
  For,       // for var in lo..hi { body }
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;

struct Stmt {
  StmtKind kind;
  SourceLoc loc; // the statement's first token

  std::string name;                 // Let / Var / Assign / Sample / For: the variable as written
  SourceLoc nameLoc;                // where `name` is
  std::optional<TypeExpr> typeExpr; // Let (optional) / Var (required)
  VarDecl* var = nullptr;    // Let / Var / For / Sample-to-new-variable: the declared variable;
                             // Assign / Sample: the target (set by the checker)
  ExprPtr index;             // Assign / Sample: `name[index]`, else null
  ExprPtr index2;            // Assign / Sample: `name[index, index2]` (a matrix element), else null
  ExprPtr value;             // Let/Var init (Var: may be null), Assign rhs, Sample / Observe dist,
                             // Condition / Factor / Assert operand, If condition
  ExprPtr value2;            // Observe: the observed value
  std::string message;       // Assert: the optional message
  ExprPtr lo, hi;            // For: bounds as written
  int64_t from = 0, to = 0;  // For: evaluated bounds (half-open)
  std::vector<StmtPtr> body; // If: then-branch; For: loop body
  std::vector<StmtPtr> elseBody; // If: else-branch (empty if none)
  std::vector<std::string> names;   // LetTuple: the bound names, in output order
  std::vector<SourceLoc> nameLocs;  // LetTuple: where each name is
  std::vector<VarDecl*> vars;       // LetTuple: the declared variables (set by the checker)

  Stmt(StmtKind k, SourceLoc l) : kind(k), loc(std::move(l)) {}
};

// ---------------------------------------------------------------------------------------------
// Declarations.

enum class DeclKind : uint8_t { Import, Enum, Module, Network, Property, Task };

struct Decl {
  DeclKind kind;
  std::string name; // Import: the path as written
  SourceLoc loc;    // the name's location (Import: the path string's)
  std::string doc;  // the `///` comment lines before it, joined with '\n' (without `///`)

  Decl(DeclKind k) : kind(k) {}
  virtual ~Decl() = default;
};
using DeclPtr = std::unique_ptr<Decl>;

struct ImportDecl : Decl {
  std::string resolvedPath; // importer's directory / path, lexically normalised (set by loader)
  ImportDecl() : Decl(DeclKind::Import) {}
};

struct EnumConstant {
  std::string name;
  SourceLoc loc;
  int64_t value = 0; // 0, 1, ... in declaration order
};

struct EnumDecl : Decl {
  std::vector<EnumConstant> constants;
  EnumDecl() : Decl(DeclKind::Enum) {}
};

/// A module or a network: something with typed inputs and outputs that can be called.
struct CallableDecl : Decl {
  std::vector<VarDecl*> inputs;               // in parameter order (point into `vars`)
  std::vector<VarDecl*> outputs;              // in parameter order (point into `vars`)
  std::vector<std::unique_ptr<VarDecl>> vars; // every variable of this callable, owned here
  CallableDecl(DeclKind k) : Decl(k) {}
  VarDecl* newVar(std::string name, SourceLoc loc, VarKind kind) {
    vars.push_back(std::make_unique<VarDecl>());
    VarDecl* v = vars.back().get();
    v->name = std::move(name);
    v->loc = std::move(loc);
    v->kind = kind;
    v->index = static_cast<int>(vars.size()) - 1;
    return v;
  }
  /// The output named `n`'s index, or -1.
  int outputIndex(std::string_view n) const {
    for (size_t i = 0; i < outputs.size(); ++i)
      if (outputs[i]->name == n) return static_cast<int>(i);
    return -1;
  }
};

struct ModuleDecl : CallableDecl {
  std::vector<StmtPtr> body;
  ModuleDecl() : CallableDecl(DeclKind::Module) {}
};

enum class NetworkFormat : uint8_t { Onnx, NNet };

/// `network N(x: real[5]) -> (y: real[5]) = onnx("file.onnx");` Inputs and outputs are real or
/// real[N]. The file is not loaded by the front end.
struct NetworkDecl : CallableDecl {
  NetworkFormat format = NetworkFormat::Onnx;
  std::string path;         // as written
  std::string resolvedPath; // relative to the declaring .chs file's directory, normalised
  SourceLoc pathLoc;
  NetworkDecl() : CallableDecl(DeclKind::Network) {}
};

struct PropertyDecl : Decl {
  ExprPtr body;                               // bool after checking
  std::vector<std::unique_ptr<VarDecl>> vars; // quantified variables, owned here
  PropertyDecl() : Decl(DeclKind::Property) {}
};

/// One `name = value` argument of a task's network clause; value a number or a list of numbers.
struct TaskOption {
  std::string name;
  SourceLoc loc;              // of the name
  std::vector<double> values; // one value, or the list's elements
  bool isList = false;
  bool integral = true; // every value was written as an integer literal (e.g. `60`, not `60.0`)
};

/// One `name in [lo, hi]` entry of a task's box clause: narrows input `name` of the inputs module.
struct TaskBox {
  std::string name;
  SourceLoc loc; // of the name
  double lo = 0, hi = 0;
};

/// A task: what `chassis compare` compares.
///
///   task braking {
///     inputs: Controller;            // the domain: the module's input box, or its runs
///     label: Controller.brake;       // the reference output
///     network: train(widths = [16, 16], epochs = 60);   // or onnx("f"), nnet("f"), compile()
///     box: speed in [5, 30];         // optional: narrows inputs of the inputs module
///     properties: p, q;              // optional: properties to check
///   }
///
/// Domain: if the inputs module has inputs, the features are those inputs, drawn from their box
/// (declared ranges narrowed by `box`; bool and enum inputs over all values). Without inputs, the
/// module is run and the features are its outputs (except the label when the label's module is
/// the inputs module). The reference module is run on the features, its inputs bound by name (a
/// feature of the same name and type for each input) or, failing that, by position (the
/// reference's inputs take as many scalars as the features hold). The checker guarantees that
/// binding exists (tasks/task_dataset.cpp applies it).
struct TaskDecl : Decl {
  std::string inputsName;
  SourceLoc inputsLoc;
  const ModuleDecl* inputs = nullptr; // resolved
  std::string labelModule, labelOutput;
  SourceLoc labelLoc;       // of the module name
  SourceLoc labelOutputLoc; // of the output name
  const ModuleDecl* reference = nullptr;
  const VarDecl* labelVar = nullptr; // resolved: an output of `reference`
  enum class NetSource { Onnx, Nnet, Train, Compile } netSource = NetSource::Train;
  SourceLoc netLoc;                     // the form's name (onnx, nnet, train, compile)
  std::string netPath, resolvedNetPath; // Onnx/Nnet: as written, and resolved like NetworkDecl's
  std::vector<TaskOption> netOptions;   // Train / Compile
  std::vector<TaskBox> box;
  std::vector<std::string> propertyNames;
  std::vector<SourceLoc> propertyLocs;
  std::vector<const PropertyDecl*> properties; // resolved
  TaskDecl() : Decl(DeclKind::Task) {}

  /// The value of option `name` (first element), or `dflt` when absent.
  double option(std::string_view name, double dflt) const;
  /// The option named `name`, or null.
  const TaskOption* findOption(std::string_view name) const;
};

/// "onnx", "nnet", "train", "compile".
const char* netSourceName(TaskDecl::NetSource s);

// ---------------------------------------------------------------------------------------------
// Files and the program.

struct FileAST {
  std::string path; // as displayed in diagnostics (the user's path, or importer-relative)
  std::vector<DeclPtr> decls;
};

struct Program {
  /// Every loaded file, each once, imports before their importers (the root file is last).
  std::vector<std::unique_ptr<FileAST>> files;
  /// Declarations in load order (files in the order above, then declaration order).
  std::vector<const EnumDecl*> enums;
  std::vector<const ModuleDecl*> modules;
  std::vector<const NetworkDecl*> networks;
  std::vector<const PropertyDecl*> properties;
  std::vector<const TaskDecl*> tasks;
  /// Every module and network, callees before callers (topological order of the call graph).
  std::vector<const CallableDecl*> order;

  const CallableDecl* findCallable(std::string_view name) const;
  const EnumDecl* findEnum(std::string_view name) const;
  const TaskDecl* findTask(std::string_view name) const;
};

} // namespace chassis::spec
