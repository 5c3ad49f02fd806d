// Tests of the front end's size limits, which keep every later pass (lowering, the interpreter,
// the verifier's unrolling) bounded in time, memory and stack: a loop's trip count and the
// product of nested loops' trip counts (kMaxLoopIterations, spec/checker.h), array lengths
// (kMaxArrayLength), statement / expression nesting (kMaxNesting) and expression-tree height
// (kMaxExprHeight, spec/parser.h). Programs at a limit must check and lower; one past it must get
// one located error. Run under ASan (CHASSIS_SANITIZE / the fuzz build) these also show that the
// deepest accepted trees do not exhaust the stack in the checker or the lowering.
#include <catch2/catch.hpp>

#include "spec/checker.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "spec/parser.h"

using namespace chassis;
using namespace chassis::spec;

namespace {

using V = std::vector<std::string>;

V errs(const std::string& src) {
  DiagnosticEngine d;
  (void)fromString(src, "t.chs", d);
  return d.messages();
}

// Checks `src` clean and lowers it to the IR; true if both succeed.
bool checksAndLowers(const std::string& src) {
  DiagnosticEngine d;
  auto p = fromString(src, "t.chs", d);
  INFO(d.str());
  if (!p) return false;
  auto ir = ir::lower(*p);
  if (!ir) UNSCOPED_INFO(ir.error().message);
  return static_cast<bool>(ir);
}

std::string loop(const std::string& range) {
  return "module M() -> (y: int) {\n  var s: int = 0;\n  for i in " + range +
         " {\n    s = s + 1;\n  }\n  y = s;\n}";
}

} // namespace

TEST_CASE("limits: a loop's trip count", "[frontend][limits]") {
  CHECK(kMaxLoopIterations == 1000000);
  CHECK(errs(loop("0..1000000")).empty());
  CHECK(errs(loop("-500000..500000")).empty());
  CHECK(errs(loop("5..3")).empty()); // empty loop
  CHECK(errs(loop("0..1000001")) ==
        V{"t.chs:3:3: error: loop runs 1000001 times; the limit is 1000000"});
  CHECK(errs(loop("0..9223372036854775807")) ==
        V{"t.chs:3:3: error: loop runs 9223372036854775807 times; the limit is 1000000"});
  // to - from overflows int64: counted in 128 bits.
  CHECK(errs(loop("-9223372036854775807 - 1..9223372036854775807")) ==
        V{"t.chs:3:3: error: loop runs 18446744073709551615 times; the limit is 1000000"});
}

TEST_CASE("limits: nested loops count as the product of their trip counts", "[frontend][limits]") {
  auto nested = [](int a, int b, int c) {
    return "module M() -> (y: int) {\n  var s: int = 0;\n  for i in 0.." + std::to_string(a) +
           " {\n    for j in 0.." + std::to_string(b) + " {\n      for k in 0.." +
           std::to_string(c) + " {\n        s = s + 1;\n      }\n    }\n  }\n  y = s;\n}";
  };
  CHECK(errs(nested(100, 100, 100)).empty());
  CHECK(errs(nested(100, 100, 101)) ==
        V{"t.chs:5:7: error: nested loops run 1010000 times in all; the limit is 1000000"});
  CHECK(errs(nested(1000, 1001, 1)) ==
        V{"t.chs:4:5: error: nested loops run 1001000 times in all; the limit is 1000000"});
  // The reported loop counts as empty: one error, not one per enclosing level.
  CHECK(errs(nested(1000, 1001, 1000)).size() == 1);
  // Sibling loops do not multiply.
  CHECK(errs("module M() -> (y: int) {\n  var s: int = 0;\n  for i in 0..1000000 { s = s + 1; }\n"
             "  for j in 0..1000000 { s = s + 1; }\n  y = s;\n}")
            .empty());
}

TEST_CASE("limits: array lengths", "[frontend][limits]") {
  CHECK(kMaxArrayLength == 1000000);
  CHECK(errs("module M(v: real[1000000]) -> (y: real) {\n  y = v[999999];\n}").empty());
  CHECK(errs("module M(v: real[1000001]) -> (y: real) {\n  y = v[0];\n}") ==
        V{"t.chs:1:18: error: array length 1000001 is too large; the limit is 1000000"});
  CHECK(errs("module M(v: real[1000000000]) -> (y: real[1000000000]) {\n  y = exp(v);\n}") ==
        V{"t.chs:1:18: error: array length 1000000000 is too large; the limit is 1000000"});
  CHECK(errs("module M() -> (y: real) {\n  var a: int[99999999999];\n  y = 1.0;\n}") ==
        V{"t.chs:2:14: error: array length 99999999999 is too large; the limit is 1000000"});
}

TEST_CASE("limits: the expression nodes one program lowers to", "[frontend][limits]") {
  CHECK(ir::kMaxLoweredNodes == 1048576);
  // exp of a whole array is expanded element by element (three nodes an element: the index, its
  // constant, the exp): 300,000 elements fit, 1,000,000 are refused at the statement, before the
  // three million nodes are made; the loop the message suggests lowers to a loop of three nodes.
  auto lowered = [](const std::string& src) -> std::string {
    DiagnosticEngine d;
    auto p = fromString(src, "t.chs", d);
    REQUIRE(p);
    auto ir = ir::lower(*p);
    return ir ? "" : ir.error().str();
  };
  auto expOf = [](int n) {
    const std::string t = "real[" + std::to_string(n) + "]";
    return "module M(v: " + t + ") -> (y: " + t + ") {\n  y = exp(v);\n}";
  };
  CHECK(lowered(expOf(300000)) == "");
  CHECK(lowered(expOf(1000000)) ==
        "t.chs:2:3: error: lowering this program makes more than 1048576 expression nodes (an "
        "elementwise operation on an array is expanded element by element); write it as a loop "
        "over the array instead");
  CHECK(lowered("module M(v: real[1000000]) -> (y: real[1000000]) {\n"
                "  for i in 0..1000000 {\n    y[i] = exp(v[i]);\n  }\n}") == "");
  // Statements under the limit each, over it together: the one that crosses it is the location.
  // (v[k] and k are shared: exp makes 3 nodes an element, log and sqrt one more each.)
  CHECK(lowered("module M(v: real[250000]) -> (y: real[250000]) {\n  let a = exp(v);\n"
                "  let b = log(v);\n  y = a;\n}") == "");
  CHECK(lowered("module M(v: real[250000]) -> (y: real[250000]) {\n  let a = exp(v);\n"
                "  let b = log(v);\n  let c = sqrt(v);\n  y = c;\n}")
            .rfind("t.chs:4:3: error: lowering this program makes more than", 0) == 0);
}

TEST_CASE("limits: long operator chains and deep nesting", "[frontend][limits]") {
  auto sum = [](int terms) {
    std::string s = "module M(x: real) -> (y: real) {\n  y = x";
    for (int i = 1; i < terms; ++i)
      s += " + x";
    return s + ";\n}";
  };
  // A chain of n terms is a tree of height n: kMaxExprHeight (400) is the most, and it checks and lowers
  // (promotions may add levels in the checker; the recursion must still fit the stack).
  CHECK(checksAndLowers(sum(300)));
  CHECK(checksAndLowers(sum(kMaxExprHeight)));
  V e = errs(sum(kMaxExprHeight + 1));
  REQUIRE(e.size() == 1);
  CHECK(e[0].rfind("t.chs:2:", 0) == 0);
  CHECK(e[0].find("error: expression too deep: more than 400 levels of operators") !=
        std::string::npos);
  CHECK(errs(sum(10000)).size() == 1);
  // An int chain promoted to real at every level (x is real, 1 is int).
  std::string mixed = "module M(x: real) -> (y: real) {\n  y = 1";
  for (int i = 1; i < kMaxExprHeight; ++i)
    mixed += (i % 2 ? " + x" : " * 2");
  CHECK(checksAndLowers(mixed + ";\n}"));

  // Parentheses: 1000 deep is rejected cleanly (one error), 100 deep is fine.
  auto parens = [](int n) {
    return "module M(x: real) -> (y: real) {\n  y = " + std::string(n, '(') + "x" +
           std::string(n, ')') + ";\n}";
  };
  CHECK(checksAndLowers(parens(100)));
  V pe = errs(parens(1000));
  REQUIRE(pe.size() == 1);
  CHECK(pe[0].find("error: expression nested too deeply (limit 256)") != std::string::npos);

  // Statements: 130 nested ifs are fine (each counts one level); 300 say "statements".
  auto ifs = [](int n) {
    std::string s = "module M(x: real) -> (y: real) {\n  var r: real = 0.0;\n";
    for (int i = 0; i < n; ++i)
      s += "if x > " + std::to_string(i) + ".0 {\n";
    s += "r = x;\n";
    for (int i = 0; i < n; ++i)
      s += "}\n";
    return s + "  y = r;\n}";
  };
  CHECK(checksAndLowers(ifs(130)));
  CHECK(checksAndLowers(ifs(255)));
  CHECK(errs(ifs(256)) == V{"t.chs:258:1: error: statements nested too deeply (limit 256)"});
  // Deep statements and a deep expression inside them have separate budgets.
  std::string both = ifs(200);
  both.replace(both.find("r = x;"), 6,
               "r = " + std::string(100, '(') + "x" + std::string(100, ')') + ";");
  CHECK(checksAndLowers(both));
}
