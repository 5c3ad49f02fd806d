// One traversal of the core IR, shared by the back ends that evaluate it (in the manner of
// Halide's CodeGen base and Souffle's interpreter/synthesiser pair): the walk over expressions
// and the dispatch of statements are written here once, generated from spec/ir_nodes.def, and a
// back end supplies only what its values are and what the real-valued operations do on them.
//
//   ExprEvaluator<D, Val>  evaluates an expression to a Val (a scalar `s` of type Scalar, or an
//                          array flattened row-major in `a`). It handles every node kind itself:
//                          constants, variables, select and the short-circuit operators, arrays
//                          (literal, index, update, with the index range checked), calls, and
//                          every operation on ints, bools and enums, with the semantics of
//                          symbolic/op_semantics.h. Real-valued operations, comparisons of reals,
//                          argmax over reals, a dense layer's row and a pure call go to the domain.
//   StmtDispatch<D, R, A>  calls D::stmtLet, D::stmtAssign, ... (one per statement kind).
//
// Each is generated from ir_nodes.def: a node kind added there that this skeleton (or a domain
// method it calls) does not handle fails the build, as does an operator missing from a switch
// here (the symbolic library builds with -Werror=switch; tests/symbolic/evaluator_compile/ shows
// a domain without one operation failing to compile).
//
// A domain D derives from ExprEvaluator<D, Val> (CRTP) and provides:
//   Scalar constant(double)                a value that is a known number
//   double plain(const Scalar&)            the number a scalar holds now
//   bool fail(std::string)                 records an error (located by the caller); false
//   bool realNeg/realAbs/realRelu/realExp/realLog/realSqrt/realSigmoid/realTanh(
//        const Scalar& x, Scalar& out)
//   bool realAdd/realSub/realMul/realDiv/realMin/realMax(const Scalar&, const Scalar&, Scalar&)
//   bool realSum(std::span<const Scalar>, Scalar&)
//   bool realDot(std::span<const Scalar>, std::span<const Scalar>, Scalar&)
//   bool realCompare(ir::BinOp, const Scalar&, const Scalar&, bool& outcome)
//   bool realArgmax(std::span<const Scalar>, size_t& best)
//   bool affineRow(const ir::DenseLayer&, int row, std::span<const Scalar> x, Scalar& out)
//   bool callPure(const ir::Function&, std::vector<Val>& args, std::vector<Val>& outs)
// Every method returns false after fail() (or the domain's own way of stopping, e.g. the tape's
// rejection of a point outside the model's domain).
//
// Domains: the interpreter (symbolic/interp.cpp, float64), the log-density tape (symbolic/ad.cpp,
// float64 values with tape slots for reverse-mode AD) and, through the interpreter's evaluate(),
// the discrete-model builder (symbolic/discrete_model.cpp, whose statements use StmtDispatch).
// The LLVM back end (codegen/codegen.cpp) would be a domain whose Scalar is an llvm::Value*, with
// plain() replaced by the emission of a branch; it is not on the skeleton yet.
#pragma once

#include "spec/ir.h"
#include "symbolic/op_semantics.h"

#include <cstddef>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

namespace chassis::symbolic {

template <typename D, typename Val> class ExprEvaluator {
public:
  using Scalar = decltype(Val::s);

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

private:
  D& dom() { return static_cast<D&>(*this); }
  Scalar num(double v) { return dom().constant(v); }
  double val(const Scalar& s) { return dom().plain(s); }

  /// An integer result: checked against 2^53.
  bool integer(double r, std::string_view what, Scalar& out) {
    if (auto why = ops::intResultError(r, what)) return dom().fail(std::move(*why));
    out = num(r);
    return true;
  }

  bool evalConst(const ir::Const& c, std::span<const Val>, Val& out) {
    out.s = num(c.asDouble());
    return true;
  }

  bool evalVar(const ir::Var& v, std::span<const Val> fr, Val& out) {
    const Val& x = fr[size_t(v.slot())];
    if (v.type().isArray())
      out.a = x.a;
    else
      out.s = x.s;
    return true;
  }

  bool evalSelect(const ir::Select& s, std::span<const Val> fr, Val& out) {
    Val c;
    if (!eval(s.cond(), fr, c)) return false;
    return eval(val(c.s) != 0 ? s.ifTrue() : s.ifFalse(), fr, out);
  }

  bool evalArrayLit(const ir::ArrayLit& l, std::span<const Val> fr, Val& out) {
    std::vector<Scalar> a;
    a.reserve(l.type().numScalars());
    Val v;
    for (ir::Expr el : l.elements()) {
      if (!eval(el, fr, v)) return false;
      if (el->type().isArray())
        a.insert(a.end(), v.a.begin(), v.a.end());
      else
        a.push_back(v.s);
    }
    out.a = std::move(a);
    return true;
  }

  bool evalIndex(const ir::Index& x, std::span<const Val> fr, Val& out) {
    Val arr, idx;
    // An element of a variable is read in place (without copying the whole array).
    const ir::Var* whole = x.array()->as<ir::Var>();
    if (!(whole ? eval(x.index(), fr, idx) : eval(x.array(), fr, arr) && eval(x.index(), fr, idx)))
      return false;
    const double i = val(idx.s);
    if (auto why = ops::indexError(i, x.array()->type().length())) return dom().fail(*why);
    const size_t w = x.type().numScalars(), k = size_t(i);
    const std::vector<Scalar>& src = whole ? fr[size_t(whole->slot())].a : arr.a;
    if (x.type().isArray())
      out.a.assign(src.begin() + long(k * w), src.begin() + long((k + 1) * w));
    else
      out.s = src[k];
    return true;
  }

  bool evalUpdate(const ir::Update& x, std::span<const Val> fr, Val& out) {
    Val idx, v;
    if (!eval(x.array(), fr, out) || !eval(x.index(), fr, idx) || !eval(x.value(), fr, v))
      return false;
    const double i = val(idx.s);
    if (auto why = ops::indexError(i, x.type().length())) return dom().fail(*why);
    const size_t k = size_t(i);
    if (x.value()->type().isArray())
      std::copy(v.a.begin(), v.a.end(), out.a.begin() + long(k * v.a.size()));
    else
      out.a[k] = v.s;
    return true;
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
    const ir::DenseLayer& l = x.layer();
    out.a.assign(size_t(l.rows), Scalar{});
    for (int r = 0; r < l.rows; ++r)
      if (!dom().affineRow(l, r, in.a, out.a[size_t(r)])) return false;
    return true;
  }

  bool evalVecRelu(const ir::VecRelu& x, std::span<const Val> fr, Val& out) {
    if (!eval(x.input(), fr, out)) return false;
    for (Scalar& v : out.a)
      if (!dom().realRelu(v, v)) return false;
    return true;
  }

  bool evalUnary(const ir::Unary& u, std::span<const Val> fr, Val& out) {
    Val x;
    if (!eval(u.arg(), fr, x)) return false;
    const bool real = u.type().scalar == ir::ScalarKind::Real;
    const double v = val(x.s);
    switch (u.op()) {
    case ir::UnOp::Neg:
      if (real) return dom().realNeg(x.s, out.s);
      return integer(-v, "-", out.s);
    case ir::UnOp::Not:
      out.s = num(v != 0 ? 0.0 : 1.0);
      return true;
    case ir::UnOp::ToReal: // an int is a known number in every domain
      out.s = num(v);
      return true;
    case ir::UnOp::Abs:
      if (real) return dom().realAbs(x.s, out.s);
      return integer(std::fabs(v), "abs", out.s);
    case ir::UnOp::Relu:
      if (real) return dom().realRelu(x.s, out.s);
      out.s = num(ops::relu(v));
      return true;
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
    case ir::UnOp::Sum: {
      if (real) return dom().realSum(x.a, out.s);
      double s = 0;
      for (const Scalar& a : x.a)
        s += val(a);
      return integer(s, "sum", out.s);
    }
    case ir::UnOp::Argmax: {
      size_t best = 0;
      if (u.arg()->type().scalar == ir::ScalarKind::Real) {
        if (!dom().realArgmax(x.a, best)) return false;
      } else {
        for (size_t k = 1; k < x.a.size(); ++k)
          if (val(x.a[k]) > val(x.a[best])) best = k;
      }
      out.s = num(double(best));
      return true;
    }
    }
    return dom().fail("internal: an unknown unary operator");
  }

  bool evalBinary(const ir::Binary& b, std::span<const Val> fr, Val& out) {
    Val x, y;
    const ir::BinOp op = b.op();
    if (!eval(b.lhs(), fr, x)) return false;
    // Short-circuit logic: the right operand is evaluated only when it decides the result.
    if (op == ir::BinOp::And || op == ir::BinOp::Or || op == ir::BinOp::Implies) {
      const bool l = val(x.s) != 0;
      if (op == ir::BinOp::And && !l) return out.s = num(0), true;
      if (op == ir::BinOp::Or && l) return out.s = num(1), true;
      if (op == ir::BinOp::Implies && !l) return out.s = num(1), true;
      if (!eval(b.rhs(), fr, y)) return false;
      out.s = num(val(y.s) != 0 ? 1 : 0);
      return true;
    }
    if (!eval(b.rhs(), fr, y)) return false;
    const bool real = b.lhs()->type().scalar == ir::ScalarKind::Real;
    const double l = real ? 0 : val(x.s), r = real ? 0 : val(y.s);
    switch (op) {
    case ir::BinOp::Add:
      if (real) return dom().realAdd(x.s, y.s, out.s);
      return integer(l + r, "+", out.s);
    case ir::BinOp::Sub:
      if (real) return dom().realSub(x.s, y.s, out.s);
      return integer(l - r, "-", out.s);
    case ir::BinOp::Mul:
      if (real) return dom().realMul(x.s, y.s, out.s);
      return integer(l * r, "*", out.s);
    case ir::BinOp::Div:
      if (real) return dom().realDiv(x.s, y.s, out.s);
      if (auto why = ops::divisorError(op, r)) return dom().fail(std::move(*why));
      out.s = num(ops::intDiv(l, r));
      return true;
    case ir::BinOp::Mod:
      if (auto why = ops::divisorError(op, val(y.s))) return dom().fail(std::move(*why));
      out.s = num(ops::intMod(val(x.s), val(y.s)));
      return true;
    case ir::BinOp::Min:
      if (real) return dom().realMin(x.s, y.s, out.s);
      out.s = num(ops::minPicksLeft(l, r) ? l : r);
      return true;
    case ir::BinOp::Max:
      if (real) return dom().realMax(x.s, y.s, out.s);
      out.s = num(ops::maxPicksLeft(l, r) ? l : r);
      return true;
    case ir::BinOp::Dot: {
      if (real) return dom().realDot(x.a, y.a, out.s);
      double s = 0;
      for (size_t k = 0; k < x.a.size(); ++k)
        s += val(x.a[k]) * val(y.a[k]);
      return integer(s, "dot", out.s);
    }
    case ir::BinOp::Eq:
    case ir::BinOp::Ne:
    case ir::BinOp::Lt:
    case ir::BinOp::Le:
    case ir::BinOp::Gt:
    case ir::BinOp::Ge: {
      bool res = false;
      if (real) {
        if (!dom().realCompare(op, x.s, y.s, res)) return false;
      } else {
        res = ops::compare(op, val(x.s), val(y.s));
      }
      out.s = num(res ? 1.0 : 0.0);
      return true;
    }
    case ir::BinOp::And:
    case ir::BinOp::Or:
    case ir::BinOp::Implies:
      break; // handled above
    }
    return dom().fail("internal: an unknown binary operator");
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
