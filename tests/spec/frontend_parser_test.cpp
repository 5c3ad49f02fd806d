// Unit tests of the .chs parser (spec/parser.h): the DESIGN.md sketch parses verbatim,
// precedence and associativity (checked on the fully parenthesised dump), statement and
// declaration forms, error recovery (several errors per file, no cascades) and the nesting limit.
#include <catch2/catch.hpp>

#include "spec/ast_printer.h"
#include "spec/parser.h"

using namespace chassis::spec;

namespace {

// The body of `property p: <src>;` as a parenthesised string.
std::string parsed(const std::string& src) {
  DiagnosticEngine d;
  auto f = parseFile("property p: " + src + ";", "t.chs", d);
  INFO(d.str());
  REQUIRE(!d.hasErrors());
  REQUIRE(f->decls.size() == 1);
  return printExpr(*static_cast<PropertyDecl&>(*f->decls[0]).body);
}

std::vector<std::string> parseErrors(const std::string& src) {
  DiagnosticEngine d;
  (void)parseFile(src, "t.chs", d);
  return d.messages();
}

} // namespace

const char* const kSketch = R"(/// A noisy range sensor.
module Sensor(distance: real) -> (reading: real) {
    noise ~ Normal(0.0, 0.5);
    reading = distance + noise;
}

module Controller(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    let stopping = speed * speed / 12.0;
    brake = reading <= stopping + 5.0;
}

network Policy(x: real[2]) -> (y: real[2]) = onnx("braking_policy.onnx");

module Braking() -> (distance: real, speed: real, brake: bool) {
    distance ~ Uniform(0.0, 100.0);
    speed ~ Uniform(0.0, 30.0);
    brake = Controller(Sensor(distance).reading, speed).brake;
}

property brakes_when_close:
    forall reading in [0, 10], speed in [5, 30]: Controller(reading, speed).brake;
property monotone_in_distance:
    forall r1 in [0, 200], r2 in [0, 200], s in [0, 40]:
        r1 <= r2 && Controller(r2, s).brake => Controller(r1, s).brake;
property rarely_late:
    P[Braking](distance < speed * speed / 12.0 && !brake) <= 0.01;
property never_late_when_slow:
    always[Braking](speed > 10 || brake || distance > 5);
)";

TEST_CASE("parser: the DESIGN.md sketch parses verbatim", "[frontend][parser]") {
  DiagnosticEngine d;
  auto f = parseFile(kSketch, "sketch.chs", d);
  INFO(d.str());
  REQUIRE(!d.hasErrors());
  REQUIRE(f->decls.size() == 8);
  CHECK(f->decls[0]->kind == DeclKind::Module);
  CHECK(f->decls[0]->doc == "A noisy range sensor.");
  auto& ctrl = static_cast<ModuleDecl&>(*f->decls[1]);
  CHECK(ctrl.name == "Controller");
  REQUIRE(ctrl.inputs.size() == 2);
  CHECK(ctrl.inputs[1]->name == "speed");
  CHECK(ctrl.inputs[1]->rangeHi->intValue == 40);
  auto& net = static_cast<NetworkDecl&>(*f->decls[2]);
  CHECK(net.path == "braking_policy.onnx");
  CHECK(net.format == NetworkFormat::Onnx);
  CHECK(net.inputs[0]->typeExpr->arrayLength == 2);
  auto& mono = static_cast<PropertyDecl&>(*f->decls[5]);
  CHECK(printExpr(*mono.body) ==
        "(forall r1: <error>, r2: <error>, s: <error>: (((r1 <= r2) && Controller(r2, s).brake) "
        "=> Controller(r1, s).brake))");
  auto& late = static_cast<PropertyDecl&>(*f->decls[6]);
  CHECK(printExpr(*late.body) ==
        "(P[Braking](((distance < ((speed * speed) / 12.0)) && (!brake))) <= 0.01)");
}

TEST_CASE("parser: precedence and associativity", "[frontend][parser]") {
  CHECK(parsed("a + b * c - d") == "((a + (b * c)) - d)");
  CHECK(parsed("a - b - c") == "((a - b) - c)");
  CHECK(parsed("a / b % c") == "((a / b) % c)");
  CHECK(parsed("-a * b") == "((-a) * b)");
  CHECK(parsed("!a && b || c") == "(((!a) && b) || c)");
  CHECK(parsed("a || b && c") == "(a || (b && c))");
  CHECK(parsed("a => b => c") == "(a => (b => c))");
  CHECK(parsed("a || b => c && d") == "((a || b) => (c && d))");
  CHECK(parsed("a < b == c >= d") == "((a < b) == (c >= d))");
  CHECK(parsed("x[1] + M(a, b).y") == "(x[1] + M(a, b).y)");
  CHECK(parsed("c ? a : b ? d : e") == "(if c then a else (if b then d else e))");
  CHECK(parsed("if c then 1 else 2 + 3") == "(if c then 1 else (2 + 3))");
  CHECK(parsed("[1, 2.5, x]") == "[1, 2.5, x]");
  CHECK(parsed("(a + b) * c") == "((a + b) * c)");
  CHECK(parsed("P[M](x | y) >= 0.5") == "(P[M](x | y) >= 0.5)");
  CHECK(parsed("E[M](x) < 2") == "(E[M](x) < 2)");
  CHECK(parsed("P[i] + 1") == "(P[i] + 1)"); // an ordinary array named P
}

TEST_CASE("parser: statements", "[frontend][parser]") {
  DiagnosticEngine d;
  auto f = parseFile(R"(enum Color { Red, Green, Blue, }
module M(n: int in [0, 3]) -> (y: real[4], c: Color) {
  var t: real[4];
  let k: int = 2;
  for i in 0..4 { t[i] ~ Normal(0.0, 1.0); y[i] = t[i]; }
  observe(Normal(0.0, 1.0), t[0]);
  condition(t[1] > 0.0);
  factor(-t[2]);
  assert t[3] < 10.0 : "small";
  assert(true);
  if n == 0 { c = Red; } else if n == 1 { c = Color.Green; } else { c = Blue; }
}
network N(x: real[5]) -> (y: real[5]) = nnet("n.nnet");
import "other.chs";)",
                     "t.chs", d);
  INFO(d.str());
  REQUIRE(!d.hasErrors());
  REQUIRE(f->decls.size() == 4);
  auto& en = static_cast<EnumDecl&>(*f->decls[0]);
  REQUIRE(en.constants.size() == 3);
  CHECK(en.constants[2].name == "Blue");
  CHECK(en.constants[2].value == 2);
  auto& m = static_cast<ModuleDecl&>(*f->decls[1]);
  REQUIRE(m.body.size() == 9);
  std::vector<StmtKind> kinds;
  for (auto& s : m.body)
    kinds.push_back(s->kind);
  CHECK(kinds == std::vector<StmtKind>{StmtKind::Var, StmtKind::Let, StmtKind::For,
                                       StmtKind::Observe, StmtKind::Condition, StmtKind::Factor,
                                       StmtKind::Assert, StmtKind::Assert, StmtKind::If});
  CHECK(m.body[6]->message == "small");
  auto& loop = *m.body[2];
  CHECK(loop.name == "i");
  REQUIRE(loop.body.size() == 2);
  CHECK(loop.body[0]->kind == StmtKind::Sample);
  CHECK(loop.body[0]->index != nullptr);
  auto& iff = *m.body[8];
  REQUIRE(iff.elseBody.size() == 1);
  CHECK(iff.elseBody[0]->kind == StmtKind::If);
  CHECK(iff.elseBody[0]->elseBody.size() == 1);
  CHECK(static_cast<NetworkDecl&>(*f->decls[2]).format == NetworkFormat::NNet);
  CHECK(f->decls[3]->kind == DeclKind::Import);
  CHECK(f->decls[3]->name == "other.chs");
}

TEST_CASE("parser: recovery reports several errors, one per mistake", "[frontend][parser]") {
  auto e = parseErrors(R"(module A() -> (y: real) {
  let x = 1 +;
  y = 2.0
  let z = 3;
  w := 4;
}
module B( -> (y: real) { y = 1.0; }
property ok: true;
property bad: forall x in [0, 1] x > 0;
)");
  CHECK(e == std::vector<std::string>{
                 "t.chs:2:14: error: expected an expression, found ';'",
                 "t.chs:3:10: error: expected ';', found 'let'",
                 "t.chs:5:5: error: expected '=' or '~' after 'w', found ':'",
                 "t.chs:7:11: error: expected an input name, found '->'",
                 "t.chs:9:34: error: expected ':' before the quantifier's body, found 'x'",
             });
}

TEST_CASE("parser: declaration-level errors", "[frontend][parser]") {
  CHECK(parseErrors("modul A() {}") ==
        std::vector<std::string>{"t.chs:1:1: error: expected a declaration ('import', 'enum', "
                                 "'module', 'network', 'property' or 'task'), found 'modul'"});
  CHECK(parseErrors("module A() -> (x: real[0]) { }") ==
        std::vector<std::string>{
            "t.chs:1:24: error: array length must be a positive integer, got 0"});
  CHECK(parseErrors("module A() -> (x: real[2][3]) { }") ==
        std::vector<std::string>{
            "t.chs:1:26: error: arrays of arrays are not supported (write a two-dimensional array "
            "as 'T[N, K]')"});
  CHECK(parseErrors("network N(x: real) -> (y: real) = tflite(\"a\");") ==
        std::vector<std::string>{"t.chs:1:35: error: expected 'onnx' or 'nnet', found 'tflite'"});
  CHECK(parseErrors("module A() { let x = [];}") ==
        std::vector<std::string>{
            "t.chs:1:22: error: empty array literal (arrays have at least one element)"});
  CHECK(parseErrors("module A() { let x = 1;") ==
        std::vector<std::string>{
            "t.chs:1:12: error: unclosed '{' (expected '}' before end of file)"});
  CHECK(parseErrors("module A() { let x = forall y in bool: y; }") ==
        std::vector<std::string>{"t.chs:1:22: error: 'forall' is only allowed in properties"});
  CHECK(parseErrors("module A() { let x = P[A](true); }") ==
        std::vector<std::string>{"t.chs:1:22: error: 'P[...]' is only allowed in properties"});
}

TEST_CASE("parser: nesting is bounded", "[frontend][parser]") {
  std::string deep = "property p: " + std::string(10000, '(') + "1" + std::string(10000, ')') + ";";
  DiagnosticEngine d;
  (void)parseFile(deep, "t.chs", d);
  REQUIRE(d.messages().size() == 1);
  CHECK(d.messages()[0].find("error: expression nested too deeply (limit 256)") !=
        std::string::npos);

  // A left-associative chain is parsed by a loop: 300 terms are fine, but its tree height is
  // bounded by kMaxExprHeight (400), for the passes that recurse over it.
  std::string chain = "property p: 1";
  for (int i = 0; i < 300; ++i)
    chain += " + 1";
  DiagnosticEngine d2;
  (void)parseFile(chain + ";", "t.chs", d2);
  CHECK(d2.messages().empty());
  for (int i = 300; i < 1200; ++i)
    chain += " + 1";
  DiagnosticEngine d2b;
  (void)parseFile(chain + ";", "t.chs", d2b);
  REQUIRE(d2b.messages().size() == 1);
  CHECK(d2b.messages()[0].find("error: expression too deep: more than 400 levels of operators") !=
        std::string::npos);

  std::string negs = "property p: " + std::string(5000, '-') + "1;";
  DiagnosticEngine d3;
  (void)parseFile(negs, "t.chs", d3);
  CHECK(d3.messages().size() == 1);

  std::string blocks = "module A() {";
  for (int i = 0; i < 400; ++i)
    blocks += " if true {";
  DiagnosticEngine d4;
  (void)parseFile(blocks, "t.chs", d4);
  REQUIRE(d4.messages().size() == 1);
  CHECK(d4.messages()[0].find("error: statements nested too deeply (limit 256)") !=
        std::string::npos);
}

TEST_CASE("parser: no syntax error right after a lexical error", "[frontend][parser]") {
  CHECK(parseErrors("module M(a: real, b: real) -> (y: real) {\n  y = a @ b;\n}") ==
        std::vector<std::string>{"t.chs:2:9: error: unexpected character '@'"});
  CHECK(parseErrors("module M() -> (y: real) {\n  y = 1.0;\n/* open\n") ==
        std::vector<std::string>{"t.chs:3:1: error: unterminated block comment"});
  // A later, independent syntax error is still reported.
  CHECK(parseErrors("module M() -> (y: real) {\n  y = 1 # 2;\n  let = 3;\n}") ==
        std::vector<std::string>{"t.chs:2:9: error: unexpected character '#'",
                                 "t.chs:3:7: error: expected a name after 'let', found '='"});
}

TEST_CASE("tuple let: names in order with their locations, the call on the right",
          "[parser][tuple-let]") {
  DiagnosticEngine d;
  auto f = parseFile("module M() -> (o: real) {\n  let (lo, hi,  mid) = Pair(1.0);\n  o = lo;\n}",
                     "t.chs", d);
  INFO(d.str());
  REQUIRE(!d.hasErrors());
  auto& m = static_cast<ModuleDecl&>(*f->decls[0]);
  REQUIRE(m.body.size() == 2);
  const Stmt& s = *m.body[0];
  CHECK(s.kind == StmtKind::LetTuple);
  CHECK(s.names == std::vector<std::string>{"lo", "hi", "mid"});
  REQUIRE(s.nameLocs.size() == 3);
  CHECK(s.nameLocs[0].line == 2);
  CHECK(s.nameLocs[0].col == 8);
  CHECK(s.nameLocs[2].col == 17);
  REQUIRE(s.value);
  CHECK(s.value->kind == ExprKind::Call);
  CHECK(s.value->name == "Pair");
  // Malformed forms are syntax errors, recovered at the next statement.
  auto errs = parseErrors("module M() -> (o: real) {\n  let (a) = F();\n  let (a, ) = F();\n"
                          "  let (a, b) F();\n  o = 1.0;\n}");
  REQUIRE(errs.size() == 3);
  CHECK(errs[0].find("binds two or more names") != std::string::npos);
}

TEST_CASE("parser: Flat's array constraints", "[frontend][parser][constrained]") {
  DiagnosticEngine d;
  auto f = parseFile(R"(module M() -> () {
  w ~ Flat(simplex);
  c ~ Flat(ordered);
  s ~ Flat(positive);
  b ~ Flat(lower = 1.0);
})",
                     "t.chs", d);
  INFO(d.str());
  REQUIRE(!d.hasErrors());
  auto& m = static_cast<ModuleDecl&>(*f->decls[0]);
  REQUIRE(m.body.size() == 4);
  const Expr& w = *m.body[0]->value;
  const Expr& c = *m.body[1]->value;
  const Expr& s = *m.body[2]->value;
  const Expr& b = *m.body[3]->value;
  CHECK(w.flatShape == FlatShape::Simplex);
  CHECK(w.args.empty());
  CHECK(printExpr(w) == "Flat(simplex)");
  CHECK(c.flatShape == FlatShape::Ordered);
  CHECK(printExpr(c) == "Flat(ordered)");
  // positive is the lower bound 0 (each element, when drawn into an array).
  CHECK(s.flatShape == FlatShape::None);
  CHECK(printExpr(s) == "FlatLower(0.0)");
  CHECK(b.flatShape == FlatShape::None);
  CHECK(printExpr(b) == "FlatLower(1.0)");
  // A word Flat does not know, or a constraint with a bound, is a syntax error.
  CHECK(parseErrors("module M() -> () { x ~ Flat(sorted); }").size() == 1);
  CHECK(parseErrors("module M() -> () { x ~ Flat(simplex, lower = 0.0); }").size() == 1);
}
