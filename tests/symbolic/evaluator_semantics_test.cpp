// The operations' semantics written once (symbolic/op_semantics.h) mean the same in both domains
// of the shared evaluator: integer `/` and `%` of negative operands, and each partial operation
// on known numbers (division by zero, `%` by zero, log and sqrt outside their domains, an index
// out of range, an integer beyond 2^53, a real result that overflows) fail in the interpreter and
// in the AD tape with the same located message. (Before the two shared one evaluator, the tape
// reported an overflow as "not a finite number", the interpreter as "not a finite float64 number".)
#include "symbolic/ad.h"
#include "symbolic/interp.h"
#include "symbolic/op_semantics.h"
#include "tests/symbolic/compile_chs.h"

#include <catch2/catch.hpp>

using namespace chassis;
using symbolic::Value;

TEST_CASE("op semantics: int division truncates toward zero, % takes the dividend's sign",
          "[evaluator]") {
  namespace ops = symbolic::ops;
  CHECK(ops::intDiv(-7, 2) == -3);
  CHECK(ops::intDiv(7, -2) == -3);
  CHECK(ops::intMod(-7, 2) == -1);
  CHECK(ops::intMod(7, -2) == 1);
  CHECK(*ops::divisorError(ir::BinOp::Div, 0) == "division by zero");
  CHECK(*ops::divisorError(ir::BinOp::Mod, 0) == "division by zero (in %)");
  CHECK(!ops::divisorError(ir::BinOp::Div, -0.5));
  CHECK(*ops::intResultError(9007199254740994.0, "*") == "integer overflow in * (beyond 2^53)");
  CHECK(!ops::intResultError(9007199254740992.0, "*"));
}

TEST_CASE("evaluator: interpreter and AD tape fail alike on every partial operation",
          "[evaluator][interp][ad]") {
  // Each module fails on the known numbers it is given (inputs are known to the tape too).
  auto c = testing::compileChs(R"(
module Rem(a: int, b: int) -> (n: int) { n = a % b; }
module DivZero(x: real) -> (y: real) { y = x / (x - x); }
module RemZero(a: int) -> (n: int) { n = a % (a - a); }
module LogNeg(x: real) -> (y: real) { y = log(x - x - 1.0); }
module SqrtNeg(x: real) -> (y: real) { y = sqrt(x - x - 2.0); }
module Index(k: int) -> (y: real) { let a = [1.0, 2.0]; y = a[k]; }
module IntOverflow(k: int) -> (n: int) { n = k * 4; }
module ExpOverflow(x: real) -> (y: real) { y = exp(x + 800.0); }
)",
                               "partial.chs");
  // What each gives on (a, b): its output, or its error; the interpreter and the tape alike.
  auto both = [&](const char* name, std::vector<Value> in) {
    const ir::Function& f = *c.ir.findFunction(name);
    Rng rng(1);
    auto r = symbolic::run(f, in, rng);
    symbolic::LogDensityTape tape(f, in);
    auto t = tape.initialize(rng);
    double out = 0;
    if (t) tape.readOutputs(std::span<double>(&out, 1));
    std::string interp = r ? "= " + symbolic::formatNumber(r->outputs[0].s) : r.error().str();
    std::string taped = t ? "= " + symbolic::formatNumber(out) : t.error().str();
    CHECK(taped == interp);
    return interp;
  };
  auto num = [](double v) { return std::vector<Value>{Value::scalar(v)}; };
  CHECK(both("Rem", {Value::scalar(-7), Value::scalar(2)}) == "= -1");
  CHECK(both("Rem", {Value::scalar(7), Value::scalar(-2)}) == "= 1");
  CHECK(both("DivZero", num(0.5)) == "partial.chs:3:40: error: division by zero");
  CHECK(both("RemZero", num(3)) == "partial.chs:4:38: error: division by zero (in %)");
  CHECK(both("LogNeg", num(0.5)) ==
        "partial.chs:5:39: error: log of -1 (log needs a positive argument)");
  CHECK(both("SqrtNeg", num(0.5)) == "partial.chs:6:40: error: sqrt of the negative number -2");
  CHECK(both("Index", num(1)) == "= 2");
  CHECK(both("Index", num(2)) == "partial.chs:7:57: error: index 2 is out of range [0, 2)");
  CHECK(both("IntOverflow", num(4503599627370496.0)) ==
        "partial.chs:8:42: error: integer overflow in * (beyond 2^53)");
  CHECK(both("ExpOverflow", num(0.5)) ==
        "partial.chs:9:44: error: the result of exp is not a finite float64 number");
}
