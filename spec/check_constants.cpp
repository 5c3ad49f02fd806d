// Constant folding for ranges, loop bounds, constant indices and the bounds of P / E, and the
// words messages use for kinds of variables and callables.
#include "spec/check_context.h"

#include <cmath>
#include <cstdio>

namespace chassis::spec::check {

std::string formatNumber(const ConstVal& v) {
  if (v.isInt) return std::to_string(v.i);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v.r);
  return buf;
}

// Literals, unary minus and + - * / % on them, and names that `names` knows (loop bounds may use
// int inputs fixed by the data). `/` is real division (as in the language).
// nullopt (with `why`) if the expression is not constant or the arithmetic fails.
std::optional<ConstVal> constEval(const Expr& e, std::string& why, const NameValue* names) {
  switch (e.kind) {
  case ExprKind::Name:
  case ExprKind::VarRef:
    if (names) {
      auto v = (*names)(e, why);
      if (!v) return std::nullopt;
      return ConstVal{true, *v, 0};
    }
    break;
  case ExprKind::IntLit:
    return ConstVal{true, e.intValue, 0};
  case ExprKind::RealLit:
    return ConstVal{false, 0, e.realValue};
  case ExprKind::Promote: { // an int constant used as a real (checked trees)
    auto a = constEval(*e.args[0], why, names);
    if (!a) return std::nullopt;
    return ConstVal{false, 0, a->real()};
  }
  case ExprKind::Unary: {
    if (e.unaryOp != UnaryOp::Neg) break;
    auto a = constEval(*e.args[0], why, names);
    if (!a) return std::nullopt;
    if (a->isInt) {
      if (a->i == INT64_MIN) {
        why = "integer overflow";
        return std::nullopt;
      }
      return ConstVal{true, -a->i, 0};
    }
    return ConstVal{false, 0, -a->r};
  }
  case ExprKind::Binary: {
    BinaryOp op = e.binaryOp;
    if (op != BinaryOp::Add && op != BinaryOp::Sub && op != BinaryOp::Mul && op != BinaryOp::Div &&
        op != BinaryOp::Mod)
      break;
    auto a = constEval(*e.args[0], why, names);
    if (!a) return std::nullopt;
    auto b = constEval(*e.args[1], why, names);
    if (!b) return std::nullopt;
    if (a->isInt && b->isInt && op != BinaryOp::Div) {
      int64_t r = 0;
      bool ovf = false;
      switch (op) {
      case BinaryOp::Add:
        ovf = __builtin_add_overflow(a->i, b->i, &r);
        break;
      case BinaryOp::Sub:
        ovf = __builtin_sub_overflow(a->i, b->i, &r);
        break;
      case BinaryOp::Mul:
        ovf = __builtin_mul_overflow(a->i, b->i, &r);
        break;
      default:
        if (b->i == 0) {
          why = "division by zero";
          return std::nullopt;
        }
        if (a->i == INT64_MIN && b->i == -1) {
          ovf = true;
          break;
        }
        r = a->i % b->i;
      }
      if (ovf) {
        why = "integer overflow";
        return std::nullopt;
      }
      return ConstVal{true, r, 0};
    }
    if (op == BinaryOp::Mod) {
      why = "'%' needs integers";
      return std::nullopt;
    }
    double x = a->real(), y = b->real(), r = 0;
    switch (op) {
    case BinaryOp::Add:
      r = x + y;
      break;
    case BinaryOp::Sub:
      r = x - y;
      break;
    case BinaryOp::Mul:
      r = x * y;
      break;
    default:
      if (y == 0) {
        why = "division by zero";
        return std::nullopt;
      }
      r = x / y;
    }
    if (!std::isfinite(r)) {
      why = "overflow";
      return std::nullopt;
    }
    return ConstVal{false, 0, r};
  }
  default:
    break;
  }
  why = "not a constant";
  return std::nullopt;
}

const char* kindWord(VarKind k) {
  switch (k) {
  case VarKind::Input:
    return "input";
  case VarKind::Output:
    return "output";
  case VarKind::Let:
    return "let binding";
  case VarKind::Local:
    return "variable";
  case VarKind::LoopIndex:
    return "loop index";
  case VarKind::Random:
    return "random choice";
  case VarKind::Quantified:
    return "quantified variable";
  }
  return "variable";
}

const char* callableWord(const CallableDecl* c) {
  return c->kind == DeclKind::Network ? "network" : "module";
}

} // namespace chassis::spec::check
