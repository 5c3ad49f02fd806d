// The meaning of the IR's partial and integer operations (spec/ir.h's SEMANTICS), written once for
// every back end that evaluates the IR: the interpreter (symbolic/interp.cpp), the log-density
// tape (symbolic/ad.cpp), the interval domain (symbolic/interval_domain.h) and the LLVM back end
// (codegen/codegen.cpp). Each check on float64 values returns why an operation has no value (the
// message a back end reports, located at the statement), or nullopt when it has one.
//
// Integers are held in doubles, exactly while |v| <= 2^53. `/` on ints truncates toward zero and
// `%` takes the dividend's sign (C's int64 semantics); a zero divisor is an error for both, and
// for real `/` too. The integer operations, the index check and the comparisons are written once
// more below as templates over an arithmetic `A` (intBinary, intUnary, intResult, indexInRange,
// comparison): Float64Arith decides them now on doubles (the float64 domains of
// symbolic/evaluator.h), codegen's LLVM arithmetic emits the same predicates and operations as
// instructions (`fcmp une r, 0` before sdiv/srem of fptosi'd operands, `fabs(r) <= 2^53`), so the
// semantics of both come from here.
#pragma once

#include "spec/ir.h"
#include "symbolic/special.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chassis::symbolic::ops {

/// The largest magnitude an int holds exactly in a double (2^53).
inline constexpr double kMaxExactInt = 9007199254740992.0;

/// Why an operation has no value here; nullopt when it has one.
using Why = std::optional<std::string>;

// ---- integers ----

/// An integer result outside [-2^53, 2^53] (`what` names the operation: "+", "sum").
inline Why intResultError(double r, std::string_view what) {
  if (std::fabs(r) <= kMaxExactInt) return std::nullopt;
  return "integer overflow in " + std::string(what) + " (beyond 2^53)";
}

/// A zero divisor of `/` (int or real) or `%`.
inline Why divisorError(ir::BinOp op, double divisor) {
  if (divisor != 0) return std::nullopt;
  return std::string(op == ir::BinOp::Mod ? "division by zero (in %)" : "division by zero");
}

/// Integer division, truncating toward zero. Requires divisor != 0 (divisorError).
inline double intDiv(double l, double r) { return double(int64_t(l) / int64_t(r)); }
/// Integer remainder with the dividend's sign. Requires divisor != 0 (divisorError).
inline double intMod(double l, double r) { return double(int64_t(l) % int64_t(r)); }

// ---- reals ----

/// A real result that is not a finite float64 number (an overflow of the float64
/// approximation, or NaN).
inline Why realResultError(double r, std::string_view what) {
  if (std::isfinite(r)) return std::nullopt;
  return std::string("the result of ") + std::string(what) + " is " +
         (std::isnan(r) ? "not a number" : "not a finite float64 number");
}

/// log is defined for x > 0, sqrt for x >= 0.
inline bool logDefined(double x) { return x > 0; }
inline bool sqrtDefined(double x) { return x >= 0; }
inline Why logDomainError(double x) {
  if (logDefined(x)) return std::nullopt;
  return "log of " + formatNumber(x) + " (log needs a positive argument)";
}
inline Why sqrtDomainError(double x) {
  if (sqrtDefined(x)) return std::nullopt;
  return "sqrt of the negative number " + formatNumber(x);
}

/// 1 / (1 + e^-x), without overflow for either sign of x.
inline double sigmoid(double x) {
  return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
}
inline double relu(double x) { return x > 0 ? x : 0.0; }
/// min and max pick the left operand only when it is strictly smaller (larger).
inline bool minPicksLeft(double l, double r) { return l < r; }
inline bool maxPicksLeft(double l, double r) { return l > r; }

// ---- any scalar ----


/// Which index an index check is of: of a one-dimensional array, or the row or the column index
/// of a matrix (x[i, j] is two checks, each against its own length), named in the message.
enum class IndexAxis : uint8_t { Element, Row, Column };

/// An index outside [0, n): "index 5 is out of range [0, 5)", "column index 7 is out of range
/// [0, 5)".
inline Why indexError(double i, int n, IndexAxis axis = IndexAxis::Element) {
  if (i >= 0 && i < n) return std::nullopt;
  const char* which = axis == IndexAxis::Row ? "row " : axis == IndexAxis::Column ? "column " : "";
  return std::string(which) + "index " + formatNumber(i) + " is out of range [0, " +
         std::to_string(n) + ")";
}

// ---- the integer operations over any arithmetic ----
//
// An arithmetic A has value type V (a double, or the code computing one) and condition type C
// (a bool, or the code computing one), and provides
//   V num(double); V add(V, V), sub, mul, neg(V), abs(V);
//   V truncDiv(V, V), truncRem(V, V)   int64 quotient toward zero / remainder with the dividend's
//                                      sign of the operands converted to int64, as a double;
//   C eq(V, V), ne, lt, le, gt, ge (IEEE: ne is true on NaN, the others false); C both(C, C);
//   V pick(C, V ifTrue, V ifFalse); V fromCond(C) (1 or 0);
//   bool require(C ok, Fault, Message)  continues (true) when ok holds, otherwise reports the
//        fault and returns false; Message is a generic callable taking `plain` (V -> double)
//        that builds the error text, called only by an arithmetic whose values are numbers;
//   bool unsupported(std::string)     an internal error.

/// What a failing check of the generic operations is (a back end with error codes maps these).
enum class Fault { DivisionByZero, IntOverflow, IndexRange };

/// The float64 arithmetic of the generic operations: decides now; `d.fail(message)` records an
/// error (and returns false).
template <class D> struct Float64Arith {
  D& d;
  static double num(double v) { return v; }
  static double add(double l, double r) { return l + r; }
  static double sub(double l, double r) { return l - r; }
  static double mul(double l, double r) { return l * r; }
  static double neg(double x) { return -x; }
  static double abs(double x) { return std::fabs(x); }
  static double truncDiv(double l, double r) { return intDiv(l, r); }
  static double truncRem(double l, double r) { return intMod(l, r); }
  static bool eq(double l, double r) { return l == r; }
  static bool ne(double l, double r) { return l != r; }
  static bool lt(double l, double r) { return l < r; }
  static bool le(double l, double r) { return l <= r; }
  static bool gt(double l, double r) { return l > r; }
  static bool ge(double l, double r) { return l >= r; }
  static bool both(bool a, bool b) { return a && b; }
  static double pick(bool c, double t, double f) { return c ? t : f; }
  static double fromCond(bool c) { return c ? 1.0 : 0.0; }
  template <class Message> bool require(bool ok, Fault, Message&& message) {
    if (ok) return true;
    return d.fail(message([](double v) { return v; }));
  }
  bool unsupported(std::string what) { return d.fail(std::move(what)); }
};

/// An integer result `r` of `what` ("+", "sum"): out = r when |r| <= 2^53, an IntOverflow fault
/// otherwise (NaN included).
template <class A, class V> bool intResult(A& a, const V& r, std::string_view what, V& out) {
  if (!a.require(a.le(a.abs(r), a.num(kMaxExactInt)), Fault::IntOverflow,
                 [&](auto plain) { return *intResultError(plain(r), what); }))
    return false;
  out = r;
  return true;
}

/// The divisor of `/` (int or real) or `%` is not zero (NaN passes, as in divisorError).
template <class A, class V> bool nonzeroDivisor(A& a, ir::BinOp op, const V& r) {
  return a.require(a.ne(r, a.num(0)), Fault::DivisionByZero,
                   [&](auto) { return *divisorError(op, 0.0); });
}

/// An index `i` of an array of length n is in [0, n) (`axis` only names it in the message).
template <class A, class V>
bool indexInRange(A& a, const V& i, int n, IndexAxis axis = IndexAxis::Element) {
  return a.require(a.both(a.ge(i, a.num(0)), a.lt(i, a.num(double(n)))), Fault::IndexRange,
                   [&](auto plain) { return *indexError(plain(i), n, axis); });
}

/// The comparison `op` (Eq, Ne, Lt, Le, Gt, Ge) as a condition; any other operator is false.
template <class A, class V> auto comparison(A& a, ir::BinOp op, const V& l, const V& r) {
  switch (op) {
  case ir::BinOp::Eq:
    return a.eq(l, r);
  case ir::BinOp::Ne:
    return a.ne(l, r);
  case ir::BinOp::Lt:
    return a.lt(l, r);
  case ir::BinOp::Le:
    return a.le(l, r);
  case ir::BinOp::Gt:
    return a.gt(l, r);
  case ir::BinOp::Ge:
    return a.ge(l, r);
  case ir::BinOp::Add:
  case ir::BinOp::Sub:
  case ir::BinOp::Mul:
  case ir::BinOp::Div:
  case ir::BinOp::Mod:
  case ir::BinOp::Min:
  case ir::BinOp::Max:
  case ir::BinOp::Dot:
  case ir::BinOp::And:
  case ir::BinOp::Or:
  case ir::BinOp::Implies:
    break;
  }
  return a.lt(l, l); // false for every number (not reached: the callers pass comparisons)
}

/// The outcome of a comparison operator (Eq, Ne, Lt, Le, Gt, Ge) on two numbers; false for any
/// other operator: `comparison` in the float64 arithmetic (which never fails).
inline bool compare(ir::BinOp op, double l, double r) {
  struct Decides {
    bool fail(std::string) { return false; }
  } d;
  Float64Arith<Decides> a{d};
  return comparison(a, op, l, r);
}

/// `l op r` on ints, bools or enums for op in + - * / % min max and the comparisons.
template <class A, class V> bool intBinary(A& a, ir::BinOp op, const V& l, const V& r, V& out) {
  switch (op) {
  case ir::BinOp::Add:
    return intResult(a, a.add(l, r), "+", out);
  case ir::BinOp::Sub:
    return intResult(a, a.sub(l, r), "-", out);
  case ir::BinOp::Mul:
    return intResult(a, a.mul(l, r), "*", out);
  case ir::BinOp::Div:
    if (!nonzeroDivisor(a, op, r)) return false;
    out = a.truncDiv(l, r);
    return true;
  case ir::BinOp::Mod:
    if (!nonzeroDivisor(a, op, r)) return false;
    out = a.truncRem(l, r);
    return true;
  case ir::BinOp::Min: // picks the left operand only when it is strictly smaller
    out = a.pick(a.lt(l, r), l, r);
    return true;
  case ir::BinOp::Max:
    out = a.pick(a.gt(l, r), l, r);
    return true;
  case ir::BinOp::Eq:
  case ir::BinOp::Ne:
  case ir::BinOp::Lt:
  case ir::BinOp::Le:
  case ir::BinOp::Gt:
  case ir::BinOp::Ge:
    out = a.fromCond(comparison(a, op, l, r));
    return true;
  case ir::BinOp::Dot:
  case ir::BinOp::And:
  case ir::BinOp::Or:
  case ir::BinOp::Implies:
    break;
  }
  return a.unsupported("internal: not an integer operator of two scalars");
}

/// `op x` on an int for op in - abs relu.
template <class A, class V> bool intUnary(A& a, ir::UnOp op, const V& x, V& out) {
  switch (op) {
  case ir::UnOp::Neg:
    return intResult(a, a.neg(x), "-", out);
  case ir::UnOp::Abs:
    return intResult(a, a.abs(x), "abs", out);
  case ir::UnOp::Relu:
    out = a.pick(a.gt(x, a.num(0)), x, a.num(0));
    return true;
  case ir::UnOp::Not:
  case ir::UnOp::ToReal:
  case ir::UnOp::Exp:
  case ir::UnOp::Log:
  case ir::UnOp::Sqrt:
  case ir::UnOp::Sigmoid:
  case ir::UnOp::Tanh:
  case ir::UnOp::Sum:
  case ir::UnOp::Argmax:
    break;
  }
  return a.unsupported("internal: not an integer operator of one scalar");
}

// ---- statements ----

/// A factor whose log weight is NaN.
inline Why factorError(double w) {
  if (!std::isnan(w)) return std::nullopt;
  return std::string("factor of NaN");
}

/// The error of an assert that fails.
inline std::string assertionFailed(const std::string& message) {
  return message.empty() ? "assertion failed" : "assertion failed: " + message;
}

/// The error of calling a network that is declared but not loaded.
inline std::string networkNotLoaded(const ir::Function& f) {
  return "network '" + f.name() + "' is declared but networks cannot be loaded yet (file " +
         f.externalFile() + ")";
}

} // namespace chassis::symbolic::ops
