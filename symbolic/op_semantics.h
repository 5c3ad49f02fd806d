// The meaning of the IR's partial and integer operations (spec/ir.h's SEMANTICS), written once for
// every back end that evaluates on float64 values: the interpreter (symbolic/interp.cpp), the
// log-density tape (symbolic/ad.cpp) and, through the interpreter's evaluate(), the discrete-model
// builder (symbolic/discrete_model.cpp). Each check returns why an operation has no value (the
// message a back end reports, located at the statement), or nullopt when it has one.
//
// Integers are held in doubles, exactly while |v| <= 2^53. `/` on ints truncates toward zero and
// `%` takes the dividend's sign (C's int64 semantics); a zero divisor is an error for both, and
// for real `/` too. The LLVM back end (codegen/codegen.cpp) emits the same: `fcmp une r, 0`
// before SDiv/SRem of fptosi'd operands and before FDiv, the 2^53 bound on integer results, and
// the domain checks of log and sqrt as error codes.
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

/// The outcome of a comparison operator (Eq, Ne, Lt, Le, Gt, Ge); false for any other operator.
/// Every operator is listed (no default), so that a new one is a -Wswitch error here.
inline bool compare(ir::BinOp op, double l, double r) {
  switch (op) {
  case ir::BinOp::Eq:
    return l == r;
  case ir::BinOp::Ne:
    return l != r;
  case ir::BinOp::Lt:
    return l < r;
  case ir::BinOp::Le:
    return l <= r;
  case ir::BinOp::Gt:
    return l > r;
  case ir::BinOp::Ge:
    return l >= r;
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
  return false;
}

/// An index outside [0, n).
inline Why indexError(double i, int n) {
  if (i >= 0 && i < n) return std::nullopt;
  return "index " + formatNumber(i) + " is out of range [0, " + std::to_string(n) + ")";
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
