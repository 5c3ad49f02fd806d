// The encoder of the core IR (spec/ir.h) into Z3 terms: one ExprVisitor over the IR node list (a
// new node kind is a compile error here, not a silent gap) and one StmtVisitor that executes a
// function body symbolically. Together with verifier/z3_encoder.cpp, the only place where
// z3::exception is caught (IrEncoder::guard).
//
// The maths. A value of IR type T is a vector of Z3 terms, one per scalar of T (row-major):
// bool -> Bool, int and enum -> Int, real -> Real (the mathematical reals of the IR semantics).
// Real constants are the EXACT rationals of their doubles (m * 2^e from frexp, printed as an
// integer fraction; never via decimal printing). Statements are executed symbolically:
//   let/assign     rebind the variable to the term of the right-hand side;
//   if b {T} else {E}   both branches executed, every variable merged as ite(b, vT, vE);
//   for i in [lo, hi)   unrolled (constant bounds);
//   v ~ D(params)  a fresh Z3 constant named by the choice's address, constrained to D's support
//                  (Uniform [lo, hi], Normal R, Bernoulli {0,1}, Categorical [0, n-1], ...);
//   observe / factor / condition   no constraint: assertions and `always` are about every trace
//                  of positive prior density, whatever its weight;
//   assert(b)      an obligation  pathCondition => b  recorded with its location;
//   call (statement or expression)   the callee inlined in a fresh frame; a Call expression is a
//                  hash-consed node, encoded once per frame (memoised by node pointer), and the
//                  callee's declared input ranges on its arguments are recorded as assumptions
//                  (unless a CallRangeHook declines them: the range checker's obligations).
// Networks (Affine / VecRelu nodes) are encoded exactly: an affine layer as the exact rational
// linear form; a ReLU as ite(h >= 0, h, 0), except where a sound bound on h proves it stable,
// where it is h or 0 (linear). The bounds come from verifier/bounds.h: when a network function
// is inlined and its body reads as a chain of layers (verifier/net_chain.h), symbolic (DeepPoly/
// CROWN) bounds of the whole chain over the interval box of its input, for each layer that is
// one Affine node; any other Affine node gets interval bounds of its one layer. Both are outward rounded.
// Transcendental functions (verifier/enclosures.h for the maths): sqrt is exact (a fresh y with
// x >= 0 => y >= 0 and y*y = x; nonlinear real arithmetic); exp, log, sigmoid, tanh are RELAXED:
// each distinct argument term x gets a fresh real y constrained by guarded linear bounds valid
// on x's interval (tangents and chords, outward rounded) and by monotonicity with the other
// occurrences of the same function (x1 <= x2 => y1 <= y2). Then relaxed() is true, and:
//   unsat  is still a proof (every real execution satisfies the relaxed constraints);
//   sat    is only a CANDIDATE: the caller must replay it in float64; a candidate that does not
//          replay means "relaxation too coarse" (retry with more enclosure pieces, then report
//          `unknown`), not a bug. Without relaxation a non-replaying model is a bug as before.
// sqrt of a possibly negative argument, or log of a possibly non-positive one, also sets
// relaxed(): there y is unconstrained (the interpreter errors at such points).
// A caller that takes a SAT answer as a proof (an `exists` witness "proved in the reals") must
// accept only a witness that replays when relaxed() (or definitions() is non-empty, which
// properties.cpp checks), or switch relaxation off with setRelaxation(false): then exp, log,
// sigmoid, tanh (and sqrt of a possibly negative argument) are an Error "nonlinear function
// 'exp' is not supported here ...", reported as `unknown`.
#pragma once

#include "spec/error.h"
#include "spec/ir.h"

#include <z3++.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace chassis::verifier {

struct NetChain;

/// A symbolic value: one Z3 term per scalar (row-major), with a sound interval enclosure of
/// each numeric scalar (lo > hi never; +-inf when unknown).
struct SymValue {
  std::vector<z3::expr> e;
  std::vector<double> lo, hi;
};

/// A random choice met while executing a body symbolically.
struct SymChoice {
  std::string address; // as the interpreter builds it (call sites "/" name [indices])
  DistKind dist;
  std::vector<z3::expr> params; // as terms (Categorical: the probability vector)
  bool constParams = false;
  std::vector<double> constValues; // the parameters when constParams
  z3::expr var;                    // the choice's Z3 constant (Bool for Bernoulli, else Int/Real)
  z3::expr supportCond;            // the support constraint on var
};

/// An assert statement met: it must hold whenever its path is taken.
struct SymAssert {
  SourceLoc loc;
  std::string message;
  z3::expr pathCond, cond;
  int depth = 0; // 0: in the executed function itself; > 0: in a callee
};

/// The result of executing a function body: the final frame, the choices, the obligations.
struct SymExecution {
  std::unordered_map<const ir::Var*, SymValue> vars; // every variable's final value
  std::vector<SymValue> outputs;
};

class IrEncoder {
public:
  explicit IrEncoder(z3::context& ctx) : ctx_(ctx) {}

  z3::context& ctx() { return ctx_; }

  /// A fresh Z3 constant (or vector of constants) for a variable of type t named `name`, with
  /// its domain constraint (enum range) added to assumptions(); `lo/hi` (when finite) become
  /// both the interval and an assumption.
  SymValue freshVar(const std::string& name, const ir::Type& t, double lo, double hi);

  /// Binds a variable in the top-level frame (property variables).
  void bind(const ir::Var* v, SymValue val) {
    top_.vars[v] = std::move(val);
    top_.memo.clear();
    top_.calls.clear();
  }

  /// Encodes a pure expression in the top-level frame.
  Expected<SymValue> encode(ir::Expr e);

  /// Executes `f` symbolically on `inputs` (its input ranges added to assumptions());
  /// `prefix` prefixes the addresses of its random choices.
  /// `body`, when given, is executed in place of f.body() (an instrumented copy: f itself is
  /// never changed).
  Expected<SymExecution> execute(const ir::Function& f, std::vector<SymValue> inputs,
                                 const std::string& prefix = "", const ir::Block* body = nullptr);

  /// A call of a function with declared input ranges (`x: real in [a, b]`), met while encoding:
  /// the callee, its arguments' terms, the path condition of the calling statement and the
  /// depth of the caller (0: the function being executed).
  struct RangedCall {
    const ir::Function* callee;
    const std::vector<SymValue>* args;
    z3::expr path;
    int callerDepth;
  };
  /// Decides at each ranged call whether the callee's ranges are ASSUMED on its arguments
  /// (true; the default without a hook) or not (false: the range checker, for which they are
  /// the obligations to prove, checks them itself). Set before encoding.
  using CallRangeHook = std::function<bool(const RangedCall&)>;
  void setCallRangeHook(CallRangeHook hook) { rangeHook_ = std::move(hook); }

  /// Constraints to assume: variable domains, callees' input ranges, supports of choices, and
  /// the definitions below.
  const std::vector<z3::expr>& assumptions() const { return assumptions_; }
  /// The subset of assumptions() that only define auxiliary variables (the enclosures of exp,
  /// log, sigmoid, tanh, sqrt and their monotonicity): whatever the other variables' values,
  /// the true y = f(x) satisfies them, so they never restrict the inputs. A check of the form
  /// "every point satisfies the assumptions" (prob_bounds' coverage query) must ask
  /// unsat(cell /\ definitions() /\ !and(conditions())), not negate the definitions.
  const std::vector<z3::expr>& definitions() const { return definitions_; }
  /// assumptions() without definitions(): the constraints that do restrict the variables.
  std::vector<z3::expr> conditions() const;
  const std::vector<SymChoice>& choices() const { return choices_; }
  const std::vector<SymAssert>& asserts() const { return asserts_; }

  /// The exact rational of a double as a Z3 real numeral.
  z3::expr realNumeral(double v);

  /// Allows relaxed encodings (see the header comment); on by default. Set before encoding.
  void setRelaxation(bool on) { relaxOn_ = on; }
  bool relaxationAllowed() const { return relaxOn_; }
  /// Pieces per enclosure of exp/log/sigmoid/tanh (default 8): more pieces, tighter
  /// relaxations and bigger queries. Set before encoding.
  void setEnclosurePieces(int n) { pieces_ = n < 1 ? 1 : n; }
  int enclosurePieces() const { return pieces_; }
  /// True when some term was relaxed (see the header comment): a sat answer is then only a
  /// candidate, to be replayed; one that does not replay is "relaxation too coarse".
  bool relaxed() const { return relaxed_; }
  /// Number of relaxed occurrences (distinct argument terms) encoded so far.
  int numRelaxed() const { return numRelaxed_; }
  /// Number of those enclosed by piecewise linear bounds (exp, log, sigmoid, tanh): the ones
  /// that more pieces (setEnclosurePieces) tighten.
  int numPiecewise() const { return numPiecewise_; }

  /// Runs `body`, turning a z3::exception into an Error (the one catch site of this file).
  static Status guard(const std::function<Status()>& body);

  /// Variables and memo tables of one function activation.
  struct Frame {
    std::unordered_map<const ir::Var*, SymValue> vars;
    std::unordered_map<ir::Expr, SymValue> memo;               // by node pointer
    std::unordered_map<ir::Expr, std::vector<SymValue>> calls; // Call node -> outputs
    z3::expr path;      // the path condition of the statement being executed
    std::string prefix; // address prefix of random choices ("Site/")
    int depth = 0;      // 0 for the function being checked, +1 per call
    // An inlined network chain: the pre-activation bounds of its layers (bounds.h), keyed by
    // Affine node, computed when the first layer is encoded.
    std::shared_ptr<const NetChain> chain;
    std::unordered_map<ir::Expr, std::pair<std::vector<double>, std::vector<double>>> preBounds;
    explicit Frame(z3::context& c) : path(c.bool_val(true)) {}
  };

private:
  Expected<SymValue> encodeIn(ir::Expr e, Frame& fr);
  Expected<std::vector<SymValue>> callIn(const ir::Function& f, std::vector<SymValue> args,
                                         Frame& caller, const std::string& prefix);
  Status execBlock(const ir::Block& b, Frame& fr);

  friend class ExprEnc;
  friend class StmtExec;
  z3::context& ctx_;
  std::vector<z3::expr> assumptions_;
  std::vector<z3::expr> definitions_;
  std::vector<SymChoice> choices_;
  std::vector<SymAssert> asserts_;
  /// y = f(x) for f in exp/log/sigmoid/tanh (fn 0..3) or sqrt (fn 4): a fresh real with its
  /// enclosure added to assumptions_, shared by equal argument terms.
  SymValue enclosed(int fn, const z3::expr& x, double lo, double hi);
  /// Adds an auxiliary variable's defining constraint (to assumptions_ and definitions_).
  void define(const z3::expr& c);
  /// The network chain of f (net_chain.h), cached; null when f is not one.
  std::shared_ptr<const NetChain> chainOf(const ir::Function& f);

  Frame top_{ctx_};
  int fresh_ = 0;
  int pieces_ = 8;
  bool relaxOn_ = true;
  CallRangeHook rangeHook_; // see setCallRangeHook
  bool relaxed_ = false;
  int numRelaxed_ = 0;
  int numPiecewise_ = 0;
  struct Occurrence {
    z3::expr x, y;
    double lo, hi; // y's interval
  };
  std::map<std::pair<int, unsigned>, size_t> encCache_; // (fn, x's ast id) -> occurrence
  std::vector<std::vector<Occurrence>> occurrences_ = std::vector<std::vector<Occurrence>>(5);
  std::map<const ir::Function*, std::shared_ptr<const NetChain>> chains_;
};

/// The relaxed-check protocol (see the header comment), for a caller that checks an UNSAT-means-
/// proof query (forall, always, assert; the inside/outside cells of a probability). The property
/// checker (verifier/properties.cpp, forall/exists, always, asserts) follows it: encode
/// with kEnclosureRounds[0] pieces (setEnclosurePieces); unsat
/// is a proof; on sat, replay the model; if it does not replay and relaxed(), re-encode in a
/// fresh context with the next count; after the last round report `unknown` with reason
/// kRelaxationTooCoarse. Never an internal error: a relaxed candidate that does not replay is
/// expected, not a bug. A check whose SAT answer is the proof (exists) must accept only a
/// witness that replays, or setRelaxation(false).
inline constexpr int kEnclosureRounds[] = {8, 32, 128};
inline constexpr const char* kRelaxationTooCoarse =
    "relaxation too coarse: the linear enclosures of exp/log/sigmoid/tanh admit a point that "
    "does not violate the property in float64";

/// Text of a double as the exact fraction "num/den" (den a power of two) or an integer.
std::string exactFraction(double v);

} // namespace chassis::verifier
