// One traversal of the core IR, shared by the back ends that evaluate it (in the manner of
// Halide's CodeGen base and Souffle's interpreter/synthesiser pair): the walk over expressions
// and the dispatch of statements are written here once, generated from spec/ir_nodes.def, and a
// back end (a value domain) supplies what its values are and what the operations do on them.
//
//   ExprEvaluator<D, Val>  evaluates an expression to a Val (a scalar `s` of type Scalar, or an
//                          array `a`). It owns the order of evaluation (operands left to right,
//                          select and the short-circuit operators evaluating only what they need,
//                          the index check after the array and index are evaluated), and the
//                          integer operations, the index check and the comparisons through the
//                          generic operations of symbolic/op_semantics.h. Real-valued operations
//                          go to the domain, and so does every step that depends on a value.
//   StmtDispatch<D, R, A>  calls D::stmtLet, D::stmtAssign, ... (one per statement kind).
//
// Each is generated from ir_nodes.def: a node kind added there that this skeleton (or a domain
// method it calls) does not handle fails the build, as does an operator missing from a switch
// here (the symbolic library builds with -Werror=switch; tests/symbolic/evaluator_compile/ shows
// a domain without one operation failing to compile).
//
// A domain D derives from ExprEvaluator<D, Val> (CRTP) and provides:
//   Scalar constant(double)                a value that is a known number
//   bool fail(std::string)                 records an error (located by the caller); false
//   bool realNeg/realAbs/realRelu/realExp/realLog/realSqrt/realSigmoid/realTanh(
//        const Scalar& x, Scalar& out)
//   bool realAdd/realSub/realMul/realDiv/realMin/realMax(const Scalar&, const Scalar&, Scalar&)
//   bool realSum(const Array&, Scalar&), realDot(const Array&, const Array&, Scalar&)
//   bool callPure(const ir::Function&, std::vector<Val>& args, std::vector<Val>& outs)
// The value-dependent steps are hooks with float64 versions here, inline, for domains whose
// scalars hold a number now (`double plain(const Scalar&)`) and whose arrays are
// std::vector<Scalar>; such a domain also provides realCompare(op, x, y, bool&),
// realArgmax(std::span<const Scalar>, size_t&) and affineRow(layer, row, x, Scalar&). A domain
// whose values are code (the LLVM back end, Scalar = llvm::Value*) defines the hooks itself and
// no plain(), which no hook it defines can then call:
//   bool branch(const Scalar& c, T ifTrue, F ifFalse, Val& out)   runs ifTrue(out) when c != 0,
//        else ifFalse(out) (select, && || =>): the code domain emits both arms and a merge
//   Scalar truthOf(const Scalar& x, bool negate)   (x != 0) != negate as 1 or 0
//   Scalar intToReal(const Scalar&)                 an int as a real
//   bool intBinary(op, x, y, out), intUnary(op, x, out)   ops::intBinary / ops::intUnary in the
//        domain's arithmetic
//   bool intSum(const Array&, Scalar&), intDot(...), argmax(const Array&, bool real, Scalar&)
//   bool realComparison(op, x, y, Scalar& out)     1 or 0
//   bool indexRead(src, i, n, width, isArray, out), indexWrite(dst, i, n, v, width, isArray)
//        the element(s) at index i of an array of n elements of `width` scalars, after
//        ops::indexInRange (the float64 versions through checkedIndex(i, n, size_t& k); the LLVM
//        domain's checkedIndex emits the check and returns the i64 index)
//   void loadVar(const Val& slot, bool isArray, Val& out)   a variable's value
//   void arrayStart(Array&, size_t n), arrayAppend(Array&, size_t pos, const Val&, size_t width,
//        bool isArray), arrayOwn(Array&, size_t n)   building an array literal; making an array
//        a private copy before an update writes it
//   bool constantArray(const ir::ArrayLit&, Val& out)   the value of a literal whose elements are
//        all constants without building it element by element, when the domain keeps one (the
//        interpreter shares one value per literal node, symbolic/interp.cpp); false: built here
//   bool affineLayer(const ir::DenseLayer&, const Array& in, Array& out), vecRelu(Array&)
// Every method returns false after fail() (or the domain's own way of stopping, e.g. the tape's
// rejection of a point outside the model's domain).
//
// Domains: the interpreter (symbolic/interp.cpp, float64), the log-density tape (symbolic/ad.cpp,
// float64 values with tape slots for reverse-mode AD), the interval domain
// (symbolic/interval_domain.h, outward-rounded enclosures), the LLVM back end
// (codegen/codegen.cpp, Scalar = llvm::Value*: it emits branches and phis where the float64
// domains decide) and, through the interpreter's evaluate(), the discrete-model builder
// (symbolic/discrete_model.cpp, whose statements use StmtDispatch). The statements of the
// interpreter, the tape, the interval domain and the LLVM back end go through StmtDispatch too.
#pragma once

#include "spec/ir.h"
#include "symbolic/op_semantics.h"

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

namespace chassis::symbolic {

template <typename D, typename Val> class ExprEvaluator {
public:
  using Scalar = decltype(Val::s);
  using Array = decltype(Val::a);

  /// Evaluates `e` over `fr` (values by variable slot) into `out`; false on failure.
  bool eval(ir::Expr e, std::span<const Val> fr, Val& out) {
    switch (e->kind()) {
#define CHASSIS_IR_EXPR(K)                                                                         \
  case ir::ExprKind::K:                                                                            \
    return eval##K(static_cast<const ir::K&>(*e), fr, out);
#include "spec/ir_nodes.def"
    }
    return dom().fail("internal: an unknown expression node");
  }

  /// Evaluates `es` in order into one flat list of scalars (arrays row-major): a distribution's
  /// parameters (Categorical's weight vector).
  bool evalFlat(const std::vector<ir::Expr>& es, std::span<const Val> fr,
                std::vector<Scalar>& out) {
    out.clear();
    Val v;
    for (ir::Expr e : es) {
      if (!eval(e, fr, v)) return false;
      if (e->type().isArray())
        out.insert(out.end(), v.a.begin(), v.a.end());
      else
        out.push_back(v.s);
    }
    return true;
  }

  // ---- the hooks' float64 versions (a domain whose values are code defines its own) ----

  template <typename T, typename F>
  bool branch(const Scalar& c, T&& ifTrue, F&& ifFalse, Val& out) {
    return val(c) != 0 ? ifTrue(out) : ifFalse(out);
  }
  Scalar truthOf(const Scalar& x, bool negate) {
    return num((val(x) != 0) != negate ? 1 : 0);
  }
  Scalar intToReal(const Scalar& x) {
    return num(val(x));
  }
  bool intBinary(ir::BinOp op, const Scalar& x, const Scalar& y, Scalar& out) {
    ops::Float64Arith<D> a{dom()};
    double r = 0;
    if (!ops::intBinary(a, op, val(x), val(y), r)) return false;
    out = num(r);
    return true;
  }
  bool intUnary(ir::UnOp op, const Scalar& x, Scalar& out) {
    ops::Float64Arith<D> a{dom()};
    double r = 0;
    if (!ops::intUnary(a, op, val(x), r)) return false;
    out = num(r);
    return true;
  }
  bool intSum(const Array& xs, Scalar& out) {
    double s = 0;
    for (const Scalar& x : xs)
      s += val(x);
    return integer(s, "sum", out);
  }
  bool intDot(const Array& xs, const Array& ys, Scalar& out) {
    double s = 0;
    for (size_t k = 0; k < xs.size(); ++k)
      s += val(xs[k]) * val(ys[k]);
    return integer(s, "dot", out);
  }
  bool argmax(const Array& xs, bool real, Scalar& out) {
    size_t best = 0;
    if (real) {
      if (!dom().realArgmax(xs, best)) return false;
    } else {
      for (size_t k = 1; k < xs.size(); ++k)
        if (val(xs[k]) > val(xs[best])) best = k;
    }
    out = num(double(best));
    return true;
  }
  bool realComparison(ir::BinOp op, const Scalar& x, const Scalar& y, Scalar& out) {
    bool res = false;
    if (!dom().realCompare(op, x, y, res)) return false;
    out = num(res ? 1.0 : 0.0);
    return true;
  }
  bool checkedIndex(const Scalar& i, int n, size_t& k) {
    ops::Float64Arith<D> a{dom()};
    const double v = val(i);
    if (!ops::indexInRange(a, v, n, indexAxis_)) return false;
    k = size_t(v);
    return true;
  }
  bool indexRead(const Array& src, const Scalar& i, int n, size_t w, bool isArray, Val& out) {
    size_t k = 0;
    if (!dom().checkedIndex(i, n, k)) return false;
    if (isArray)
      out.a.assign(src.begin() + long(k * w), src.begin() + long((k + 1) * w));
    else
      out.s = src[k];
    return true;
  }
  bool indexWrite(Array& dst, const Scalar& i, int n, const Val& v, size_t w, bool isArray) {
    size_t k = 0;
    if (!dom().checkedIndex(i, n, k)) return false;
    if (isArray)
      std::copy(v.a.begin(), v.a.end(), dst.begin() + long(k * w));
    else
      dst[k] = v.s;
    return true;
  }
  void loadVar(const Val& x, bool isArray, Val& out) {
    if (isArray)
      out.a = x.a;
    else
      out.s = x.s;
  }
  void arrayStart(Array& a, size_t n) {
    a.clear();
    a.reserve(n);
  }
  void arrayAppend(Array& a, size_t, const Val& v, size_t, bool isArray) {
    if (isArray)
      a.insert(a.end(), v.a.begin(), v.a.end());
    else
      a.push_back(v.s);
  }
  void arrayOwn(Array&, size_t) {} // a vector is already the update's own copy
  bool constantArray(const ir::ArrayLit&, Val&) { return false; } // built element by element
  bool affineLayer(const ir::DenseLayer& l, const Array& in, Array& out) {
    out.assign(size_t(l.rows), Scalar{});
    for (int r = 0; r < l.rows; ++r)
      if (!dom().affineRow(l, r, in, out[size_t(r)])) return false;
    return true;
  }
  bool vecRelu(Array& xs) {
    for (Scalar& v : xs)
      if (!dom().realRelu(v, v)) return false;
    return true;
  }

private:
  /// The axis of the index being checked (evalIndex / evalUpdate set it around the check), for
  /// the float64 checkedIndex's message.
  ops::IndexAxis indexAxis_ = ops::IndexAxis::Element;

  D& dom() { return static_cast<D&>(*this); }
  Scalar num(double v) { return dom().constant(v); }
  double val(const Scalar& s) { return dom().plain(s); }

  /// An integer result: checked against 2^53.
  bool integer(double r, std::string_view what, Scalar& out) {
    ops::Float64Arith<D> a{dom()};
    double checked = 0;
    if (!ops::intResult(a, r, what, checked)) return false;
    out = num(checked);
    return true;
  }

  bool evalConst(const ir::Const& c, std::span<const Val>, Val& out) {
    out.s = num(c.asDouble());
    return true;
  }

  bool evalVar(const ir::Var& v, std::span<const Val> fr, Val& out) {
    dom().loadVar(fr[size_t(v.slot())], v.type().isArray(), out);
    return true;
  }

  bool evalSelect(const ir::Select& s, std::span<const Val> fr, Val& out) {
    Val c;
    if (!eval(s.cond(), fr, c)) return false;
    return dom().branch(
        c.s, [&](Val& o) { return eval(s.ifTrue(), fr, o); },
        [&](Val& o) { return eval(s.ifFalse(), fr, o); }, out);
  }

  bool evalArrayLit(const ir::ArrayLit& l, std::span<const Val> fr, Val& out) {
    if (dom().constantArray(l, out)) return true;
    Array a;
    dom().arrayStart(a, l.type().numScalars());
    Val v;
    size_t pos = 0;
    for (ir::Expr el : l.elements()) {
      if (!eval(el, fr, v)) return false;
      const size_t w = el->type().numScalars();
      dom().arrayAppend(a, pos, v, w, el->type().isArray());
      pos += w;
    }
    out.a = std::move(a);
    return true;
  }

  /// Which index of a matrix indexes `arr` (an Index's or Update's array operand): the row
  /// index when arr is two-dimensional, the column index when arr is a row taken from one
  /// (x[i][j], the lowering of x[i, j]); else a one-dimensional array's index.
  static ops::IndexAxis axisOf(ir::Expr arr) {
    if (arr->type().elementIsArray()) return ops::IndexAxis::Row;
    if (auto* row = arr->as<ir::Index>(); row && row->array()->type().elementIsArray())
      return ops::IndexAxis::Column;
    return ops::IndexAxis::Element;
  }

  bool evalIndex(const ir::Index& x, std::span<const Val> fr, Val& out) {
    Val arr, idx;
    // An element of a variable is read in place (without copying the whole array).
    const ir::Var* whole = x.array()->as<ir::Var>();
    if (!(whole ? eval(x.index(), fr, idx) : eval(x.array(), fr, arr) && eval(x.index(), fr, idx)))
      return false;
    const Array& src = whole ? fr[size_t(whole->slot())].a : arr.a;
    indexAxis_ = axisOf(x.array());
    const bool ok = dom().indexRead(src, idx.s, x.array()->type().length(), x.type().numScalars(),
                                    x.type().isArray(), out);
    indexAxis_ = ops::IndexAxis::Element;
    return ok;
  }

  bool evalUpdate(const ir::Update& x, std::span<const Val> fr, Val& out) {
    Val idx, v;
    if (!eval(x.array(), fr, out)) return false;
    dom().arrayOwn(out.a, x.type().numScalars());
    if (!eval(x.index(), fr, idx) || !eval(x.value(), fr, v)) return false;
    indexAxis_ = axisOf(x.array());
    const bool ok = dom().indexWrite(out.a, idx.s, x.type().length(), v,
                                     x.value()->type().numScalars(), x.value()->type().isArray());
    indexAxis_ = ops::IndexAxis::Element;
    return ok;
  }

  bool evalCall(const ir::Call&, std::span<const Val>, Val&) {
    return dom().fail("internal: a call node evaluated without selecting an output");
  }

  bool evalCallResult(const ir::CallResult& r, std::span<const Val> fr, Val& out) {
    const ir::Call& call = r.call();
    std::vector<Val> args(call.args().size());
    for (size_t k = 0; k < args.size(); ++k)
      if (!eval(call.args()[k], fr, args[k])) return false;
    std::vector<Val> outs;
    if (!dom().callPure(call.callee(), args, outs)) return false;
    out = std::move(outs[size_t(r.index())]);
    return true;
  }

  bool evalAffine(const ir::Affine& x, std::span<const Val> fr, Val& out) {
    Val in;
    if (!eval(x.input(), fr, in)) return false;
    return dom().affineLayer(x.layer(), in.a, out.a);
  }

  bool evalVecRelu(const ir::VecRelu& x, std::span<const Val> fr, Val& out) {
    if (!eval(x.input(), fr, out)) return false;
    return dom().vecRelu(out.a);
  }

  bool evalUnary(const ir::Unary& u, std::span<const Val> fr, Val& out) {
    Val x;
    if (!eval(u.arg(), fr, x)) return false;
    const bool real = u.type().scalar == ir::ScalarKind::Real;
    switch (u.op()) {
    case ir::UnOp::Neg:
      if (real) return dom().realNeg(x.s, out.s);
      return dom().intUnary(u.op(), x.s, out.s);
    case ir::UnOp::Not:
      out.s = dom().truthOf(x.s, true);
      return true;
    case ir::UnOp::ToReal: // an int is a known number in every domain
      out.s = dom().intToReal(x.s);
      return true;
    case ir::UnOp::Abs:
      if (real) return dom().realAbs(x.s, out.s);
      return dom().intUnary(u.op(), x.s, out.s);
    case ir::UnOp::Relu:
      if (real) return dom().realRelu(x.s, out.s);
      return dom().intUnary(u.op(), x.s, out.s);
    case ir::UnOp::Exp:
      return dom().realExp(x.s, out.s);
    case ir::UnOp::Log:
      return dom().realLog(x.s, out.s);
    case ir::UnOp::Sqrt:
      return dom().realSqrt(x.s, out.s);
    case ir::UnOp::Sigmoid:
      return dom().realSigmoid(x.s, out.s);
    case ir::UnOp::Tanh:
      return dom().realTanh(x.s, out.s);
    case ir::UnOp::Sum:
      if (real) return dom().realSum(x.a, out.s);
      return dom().intSum(x.a, out.s);
    case ir::UnOp::Argmax:
      return dom().argmax(x.a, u.arg()->type().scalar == ir::ScalarKind::Real, out.s);
    }
    return dom().fail("internal: an unknown unary operator");
  }

  bool evalBinary(const ir::Binary& b, std::span<const Val> fr, Val& out) {
    Val x, y;
    const ir::BinOp op = b.op();
    if (!eval(b.lhs(), fr, x)) return false;
    // Short-circuit logic: the right operand is evaluated only when it decides the result.
    if (op == ir::BinOp::And || op == ir::BinOp::Or || op == ir::BinOp::Implies) {
      auto right = [&](Val& o) {
        Val r;
        if (!eval(b.rhs(), fr, r)) return false;
        o.s = dom().truthOf(r.s, false);
        return true;
      };
      auto zero = [&](Val& o) { return o.s = num(0), true; };
      auto one = [&](Val& o) { return o.s = num(1), true; };
      if (op == ir::BinOp::And) return dom().branch(x.s, right, zero, out);
      if (op == ir::BinOp::Or) return dom().branch(x.s, one, right, out);
      return dom().branch(x.s, right, one, out); // a => b
    }
    if (!eval(b.rhs(), fr, y)) return false;
    const bool real = b.lhs()->type().scalar == ir::ScalarKind::Real;
    switch (op) {
    case ir::BinOp::Add:
      if (real) return dom().realAdd(x.s, y.s, out.s);
      break;
    case ir::BinOp::Sub:
      if (real) return dom().realSub(x.s, y.s, out.s);
      break;
    case ir::BinOp::Mul:
      if (real) return dom().realMul(x.s, y.s, out.s);
      break;
    case ir::BinOp::Div:
      if (real) return dom().realDiv(x.s, y.s, out.s);
      break;
    case ir::BinOp::Mod: // ints only
      break;
    case ir::BinOp::Min:
      if (real) return dom().realMin(x.s, y.s, out.s);
      break;
    case ir::BinOp::Max:
      if (real) return dom().realMax(x.s, y.s, out.s);
      break;
    case ir::BinOp::Dot:
      if (real) return dom().realDot(x.a, y.a, out.s);
      return dom().intDot(x.a, y.a, out.s);
    case ir::BinOp::Eq:
    case ir::BinOp::Ne:
    case ir::BinOp::Lt:
    case ir::BinOp::Le:
    case ir::BinOp::Gt:
    case ir::BinOp::Ge:
      if (real) return dom().realComparison(op, x.s, y.s, out.s);
      break;
    case ir::BinOp::And:
    case ir::BinOp::Or:
    case ir::BinOp::Implies:
      return dom().fail("internal: a short-circuit operator evaluated eagerly"); // handled above
    }
    return dom().intBinary(op, x.s, y.s, out.s);
  }
};

/// Dispatches a statement to D::stmt<Kind>(const <Kind>Stmt&, args...), one method per statement
/// kind of ir_nodes.def (a kind without its method does not compile).
template <typename D, typename R, typename... Args> class StmtDispatch {
public:
  R stmt(ir::Stmt s, Args... args) {
    D& d = static_cast<D&>(*this);
    switch (s->kind()) {
#define CHASSIS_IR_STMT(K)                                                                         \
  case ir::StmtKind::K:                                                                            \
    return d.stmt##K(static_cast<const ir::K##Stmt&>(*s), args...);
#include "spec/ir_nodes.def"
    }
    std::abort(); // unreachable: every kind is a case above
  }
};

} // namespace chassis::symbolic
