// Unit tests of the .chs checker (spec/checker.h via spec/frontend.h): types, promotion, name
// resolution, builtins, distributions, the output assignment rule, properties, and the exact
// text and location of diagnostics.
#include <catch2/catch.hpp>

#include "spec/ast_printer.h"
#include "spec/frontend.h"

#include <ctime>

using namespace chassis;
using namespace chassis::spec;

namespace {

std::vector<std::string> errs(const std::string& src) {
  DiagnosticEngine d;
  (void)fromString(src, "t.chs", d);
  return d.messages();
}

Program ok(const std::string& src) {
  DiagnosticEngine d;
  auto p = fromString(src, "t.chs", d);
  INFO(d.str());
  REQUIRE(p);
  return std::move(*p);
}

using V = std::vector<std::string>;

// CPU seconds since `start` (not wall time: the machine may be busy). Budgets are for an
// optimised build; unoptimised (and sanitised) builds get four times as much.
double cpuSeconds(std::clock_t start) {
  return static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
}
#ifdef NDEBUG
constexpr double kSlack = 1.0;
#else
constexpr double kSlack = 4.0;
#endif

} // namespace

TEST_CASE("checker: the DESIGN.md sketch checks, names resolved, types set",
          "[frontend][checker]") {
  Program p = ok(R"(
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
property rarely_late:
    P[Braking](distance < speed * speed / 12.0 && !brake) <= 0.01;
property never_late_when_slow:
    always[Braking](speed > 10 || brake || distance > 5);
)");
  REQUIRE(p.modules.size() == 3);
  REQUIRE(p.networks.size() == 1);
  CHECK(p.networks[0]->resolvedPath == "braking_policy.onnx");
  const ModuleDecl& ctrl = *p.modules[1];
  REQUIRE(ctrl.inputs[0]->range);
  CHECK(ctrl.inputs[0]->range->lo == 0.0);
  CHECK(ctrl.inputs[0]->range->hi == 200.0);
  const ModuleDecl& brk = *p.modules[2];
  const Expr& call = *brk.body[2]->value;
  CHECK(call.kind == ExprKind::Call);
  CHECK(call.callee == &ctrl);
  CHECK(call.outputIndex == 0);
  CHECK(call.type == Type::boolean());
  CHECK(call.args[0]->kind == ExprKind::Call);
  CHECK(call.args[0]->callee == p.modules[0]);
  CHECK(call.args[1]->kind == ExprKind::VarRef);
  CHECK(call.args[1]->var == brk.outputs[1]);
  CHECK(brk.body[0]->var == brk.outputs[0]);
  const ModuleDecl& sensor = *p.modules[0];
  CHECK(sensor.body[0]->var->kind == VarKind::Random);
  CHECK(sensor.body[0]->var->topLevel);
  CHECK(sensor.body[0]->value->kind == ExprKind::Dist);
  CHECK(sensor.body[0]->value->dist == DistKind::Normal);
  // The order lists callees first.
  std::vector<std::string> order;
  for (auto* c : p.order)
    order.push_back(c->name);
  auto pos = [&](const std::string& n) {
    return std::find(order.begin(), order.end(), n) - order.begin();
  };
  CHECK(order.size() == 4);
  CHECK(pos("Sensor") < pos("Braking"));
  CHECK(pos("Controller") < pos("Braking"));
  // The property's names point at Braking's variables.
  const Expr& alw = *p.properties[2]->body;
  CHECK(alw.kind == ExprKind::Always);
  CHECK(alw.callee == &brk);
  CHECK(alw.type == Type::boolean());
  CHECK(p.properties[1]->body->args[0]->type == Type::real());
}

TEST_CASE("checker: int promotes to real explicitly; / is real; % is int", "[frontend][checker]") {
  Program p = ok(R"(module M(a: int, b: real) -> (x: real, y: int, z: real, w: bool) {
  x = a + b;
  y = a * 2 % 3;
  z = a / 2;
  w = a < b;
})");
  auto& m = *p.modules[0];
  CHECK(printExpr(*m.body[0]->value) == "(real(a) + b)");
  CHECK(m.body[1]->value->type == Type::integer());
  CHECK(printExpr(*m.body[2]->value) == "(real(a) / real(2))");
  CHECK(printExpr(*m.body[3]->value) == "(real(a) < b)");
  // Assigning an int to a real output promotes too.
  Program q = ok("module M(a: int) -> (x: real) { x = a; }");
  CHECK(q.modules[0]->body[0]->value->kind == ExprKind::Promote);
}

TEST_CASE("checker: type errors name the types", "[frontend][checker]") {
  CHECK(errs("module M(a: bool) -> (x: real) { x = a + 1.0; }") ==
        V{"t.chs:1:40: error: operator '+' needs numbers, got bool and real"});
  CHECK(errs("module M(a: real) -> (x: int) { x = a; }") ==
        V{"t.chs:1:37: error: cannot assign a value of type real to 'x' of type int"});
  CHECK(errs("module M(a: real) -> (x: real) { x = a % 2.0; }") ==
        V{"t.chs:1:40: error: operator '%' needs two ints, got real and real"});
  CHECK(errs("module M(a: real) -> (x: bool) { x = a && true; }") ==
        V{"t.chs:1:40: error: operator '&&' needs bools, got real and bool"});
  CHECK(errs("module M(a: real) -> (x: bool) { x = !a; }") ==
        V{"t.chs:1:38: error: operator '!' needs a bool, got real"});
  CHECK(errs("module M(a: real) -> (x: real) { if a { x = 1.0; } else { x = 2.0; } }") ==
        V{"t.chs:1:37: error: condition of 'if' must be bool, got real"});
  CHECK(errs("module M(a: real) -> (x: real) { x = if a > 0.0 then 1.0 else true; }") ==
        V{"t.chs:1:38: error: branches of the conditional have different types: real and bool"});
}

TEST_CASE("checker: one mistake, one message", "[frontend][checker]") {
  // The undefined name is reported once, and nothing downstream of it.
  CHECK(errs("module M(speed: real) -> (x: real, y: bool) { x = spped * 2.0 + spped; y = x > "
             "spped; }") == V{"t.chs:1:51: error: undefined name 'spped' (did you mean 'speed'?)"});
}

TEST_CASE("checker: calls and outputs", "[frontend][checker]") {
  const std::string ctrl = "module Controller(a: real, b: real) -> (brake: bool, level: int) { "
                           "brake = a < b; level = 1; }\n";
  CHECK(errs(ctrl + "module M() -> (x: bool) { x = Controller(1.0, 2.0, 3.0).brake; }") ==
        V{"t.chs:2:31: error: module 'Controller' expects 2 arguments, got 3"});
  CHECK(errs(ctrl + "module M() -> (x: bool) { x = Controller(1.0, true).brake; }") ==
        V{"t.chs:2:47: error: argument 2 of 'Controller' ('b') must be real, got bool"});
  CHECK(errs(ctrl + "module M() -> (x: bool) { x = Controller(1.0, 2.0).brak; }") ==
        V{"t.chs:2:52: error: module 'Controller' has no output 'brak' (outputs: brake, level)"});
  CHECK(errs(ctrl + "module M() -> (x: bool) { x = Controller(1.0, 2.0); }") ==
        V{"t.chs:2:31: error: module 'Controller' has 2 outputs; select one with '.name'"});
  CHECK(errs("module M() -> (x: real) { x = Foo(1.0); }") ==
        V{"t.chs:1:31: error: undefined module, network or function 'Foo'"});
  CHECK(errs("module M() -> (x: real) { x = Normal(0.0, 1.0); }") ==
        V{"t.chs:1:31: error: distribution 'Normal' can only be used on the right of '~' or as "
          "the first argument of 'observe'"});
  // Single-output callee used directly as a value; int argument promoted.
  Program p = ok("module S(a: real) -> (y: real) { y = a; }\n"
                 "module M() -> (x: real) { x = S(1) + S(2.0).y; }");
  const Expr& sum = *p.modules[1]->body[0]->value;
  CHECK(sum.args[0]->kind == ExprKind::Call);
  CHECK(sum.args[0]->outputIndex == 0);
  CHECK(sum.args[0]->args[0]->kind == ExprKind::Promote);
}

TEST_CASE("checker: distributions from distributions.def", "[frontend][checker]") {
  CHECK(errs("module M() -> (x: real) { x ~ Normal(0.0, true); }") ==
        V{"t.chs:1:43: error: distribution 'Normal' parameter 'sigma' must be real, got bool"});
  CHECK(errs("module M() -> (x: real) { x ~ Normal(0.0); }") ==
        V{"t.chs:1:31: error: distribution 'Normal' expects 2 arguments, got 1"});
  CHECK(errs("module M() -> (x: int) { x ~ Binomial(2.5, 0.5); }") ==
        V{"t.chs:1:39: error: distribution 'Binomial' parameter 'n' must be int, got real"});
  CHECK(errs("module M() -> (x: real) { x ~ Normall(0.0, 1.0); }") ==
        V{"t.chs:1:31: error: unknown distribution 'Normall'"});
  CHECK(errs("module M() -> (x: real) { x ~ Poisson(3.0); }") ==
        V{"t.chs:1:27: error: cannot draw a value of type int (from 'Poisson') into 'x' of type "
          "real"});
  Program p = ok("module M() -> (k: int, b: bool) { k ~ Categorical([1, 2.0, 3]); b ~ "
                 "Bernoulli(1); observe(Normal(0, 1), 2); }");
  const Stmt& cat = *p.modules[0]->body[0];
  CHECK(cat.value->dist == DistKind::Categorical);
  CHECK(cat.value->args[0]->type == Type::array(Type::real(), 3));
  CHECK(p.modules[0]->body[1]->value->args[0]->kind == ExprKind::Promote);
  CHECK(p.modules[0]->body[2]->value2->kind == ExprKind::Promote);
}

TEST_CASE("checker: builtins", "[frontend][checker]") {
  Program p = ok(
      R"(module M(v: real[3], w: int[3], a: int) -> (r: real, i: int, e: real[3], m: int[3], d: real, k: int) {
  r = exp(a) + sigmoid(1.0) + sum(v);
  i = sum(w) + abs(a) + argmax(v);
  e = relu(v);
  m = max(w, w);
  d = dot(v, w);
  k = min(a, 3);
})");
  auto& m = *p.modules[0];
  CHECK(m.body[2]->value->type == Type::array(Type::real(), 3));
  CHECK(m.body[3]->value->type == Type::array(Type::integer(), 3));
  CHECK(printExpr(*m.body[4]->value) == "dot(v, real(w))");
  CHECK(m.body[5]->value->type == Type::integer());
  CHECK(errs("module M(a: real) -> (x: real) { x = min(a); }") ==
        V{"t.chs:1:38: error: 'min' expects 2 arguments, got 1"});
  CHECK(errs("module M(a: real) -> (x: real) { x = sum(a); }") ==
        V{"t.chs:1:38: error: 'sum' expects an array of numbers, got real"});
  CHECK(errs("module M(a: bool) -> (x: real) { x = exp(a); }") ==
        V{"t.chs:1:38: error: 'exp' expects a number or an array of numbers, got bool"});
  CHECK(errs("module M(a: real[2], b: real[3]) -> (x: real) { x = dot(a, b); }") ==
        V{"t.chs:1:53: error: 'dot' expects two number arrays of the same length, got real[2] "
          "and real[3]"});
}

TEST_CASE("checker: enums, arrays and indices", "[frontend][checker]") {
  Program p = ok(R"(enum Color { Red, Green, Blue }
module M(c: Color, v: real[3]) -> (x: bool, y: real, z: Color) {
  x = c == Color.Blue || c != Red;
  y = v[2] + [1.0, 2.0][0];
  z = Green;
})");
  auto& m = *p.modules[0];
  const Expr& eq = *m.body[0]->value->args[0];
  CHECK(eq.args[1]->kind == ExprKind::EnumConst);
  CHECK(eq.args[1]->intValue == 2);
  CHECK(m.body[2]->value->intValue == 1);
  CHECK(errs("enum Color { Red }\nmodule M() -> (x: Color) { x = Color.Purple; }") ==
        V{"t.chs:2:38: error: enum 'Color' has no constant 'Purple'"});
  CHECK(errs("enum A { X }\nenum B { X }\nmodule M() -> (x: A) { x = X; }") ==
        V{"t.chs:3:28: error: ambiguous enum constant 'X' (in 'A' and 'B'); write A.X"});
  CHECK(errs("module M(v: real[3]) -> (x: real) { x = v[3]; }") ==
        V{"t.chs:1:43: error: index 3 is out of bounds for 'v' of type real[3]"});
  CHECK(errs("module M(v: real[3]) -> (x: real) { x = v[1.0]; }") ==
        V{"t.chs:1:43: error: array index must be int, got real"});
  CHECK(errs("enum Color { Red, Red }") ==
        V{"t.chs:1:19: error: duplicate constant 'Red' in enum 'Color'"});
  CHECK(errs("module M(c: Colour) -> () { }") == V{"t.chs:1:13: error: unknown type 'Colour'"});
}

TEST_CASE("checker: the output assignment rule", "[frontend][checker]") {
  CHECK(errs("module M() -> (brake: bool) { }") ==
        V{"t.chs:1:16: error: output 'brake' is never assigned"});
  CHECK(errs("module M() -> (y: real) { y = 1.0; y = 2.0; }") ==
        V{"t.chs:1:36: error: output 'y' is assigned more than once"});
  CHECK(errs("module M(c: bool) -> (y: real) { if c { y = 1.0; } }") ==
        V{"t.chs:1:23: error: output 'y' is not assigned on every path"});
  CHECK(errs("module M() -> (y: real, z: real) { z = y; y = 1.0; }") ==
        V{"t.chs:1:40: error: output 'y' is read before it is assigned"});
  CHECK(errs("module M() -> (y: real[3]) { for i in 0..2 { y[i] = 1.0; } }") ==
        V{"t.chs:1:46: error: output 'y' is assigned inside a loop; assign it once outside "
          "loops, or element-wise as 'y[i] = ...' directly in a loop 'for i in 0..3'"});
  CHECK(errs("module M() -> (y: real[2]) { y[0] = 1.0; y[1] = 2.0; }") ==
        V{"t.chs:1:30: error: output 'y' can only be assigned element-wise ('y[i] = ...') in a "
          "loop 'for i in 0..2' over its length",
          "t.chs:1:42: error: output 'y' can only be assigned element-wise ('y[i] = ...') in a "
          "loop 'for i in 0..2' over its length"});
  CHECK(errs("module M(a: real) -> (y: real) { a = 1.0; y = a; }") ==
        V{"t.chs:1:34: error: cannot assign to input 'a'"});
  CHECK(errs("module M() -> (y: real) { let k = 1.0; k = 2.0; y = k; }") ==
        V{"t.chs:1:40: error: cannot assign to let binding 'k'"});
  CHECK(errs("module M() -> (y: real) { for i in 0..3 { z ~ Normal(0.0, 1.0); } y = 1.0; }") ==
        V{"t.chs:1:43: error: random choice 'z' is drawn inside a loop, so its address would "
          "repeat; declare an array ('var z: real[N];') and draw 'z[i] ~ ...'"});
  // Accepted: both branches; element-wise loop over the whole length, reading y[i] after it.
  Program p = ok(R"(module M(c: bool) -> (y: real, v: real[3], w: real) {
  if c { y = 1.0; } else { y ~ Normal(0.0, 1.0); }
  for i in 0..3 {
    if c { v[i] ~ Normal(0.0, 1.0); } else { v[i] = 0.0; }
    let t = v[i] * 2.0;
  }
  var acc: real;
  for j in 1..3 { acc = acc + v[j]; }
  w = acc + y;
})");
  CHECK(p.modules[0]->body[1]->from == 0);
  CHECK(p.modules[0]->body[1]->to == 3);
  CHECK(errs("module M(n: int) -> (y: real) { for i in 0..n { } y = 1.0; }") ==
        V{"t.chs:1:45: error: loop bound 'n' is not known: it is the input 'n', whose value comes "
          "from the data of a run (give it with --data FILE or --input n=N, or fix it with a range "
          "'in [N, N]')"});
}

TEST_CASE("checker: ranges", "[frontend][checker]") {
  CHECK(errs("module M(x: real in [10, 0]) -> () { }") ==
        V{"t.chs:1:22: error: inverted range [10, 0] for 'x' (lower bound above upper bound)"});
  CHECK(errs("module M(x: int in [0, 1.5]) -> () { }") ==
        V{"t.chs:1:24: error: range bounds of int input 'x' must be integers"});
  CHECK(errs("module M(x: bool in [0, 1]) -> () { }") ==
        V{"t.chs:1:22: error: only int and real inputs can have a range; 'x' is bool"});
  Program p = ok("module M(x: real in [-2 * 3, 1e1 / 4]) -> () { }");
  CHECK(p.modules[0]->inputs[0]->range->lo == -6.0);
  CHECK(p.modules[0]->inputs[0]->range->hi == 2.5);
}

TEST_CASE("checker: names", "[frontend][checker]") {
  CHECK(errs("module M(a: real) -> (y: real) { let a = 1.0; y = a; }") ==
        V{"t.chs:1:38: error: redefinition of 'a' (previously declared at line 1)"});
  CHECK(errs("module A() -> () { }\nmodule A() -> () { }") ==
        V{"t.chs:2:8: error: redefinition of 'A' (previously declared at t.chs:1:8)"});
  CHECK(errs("module min() -> () { }") ==
        V{"t.chs:1:8: error: 'min' is the name of a builtin function"});
  CHECK(errs("module M() -> (y: real) { y = M; }") ==
        V{"t.chs:1:31: error: module 'M' must be called: M(...)"});
  // Sibling blocks may reuse a name.
  (void)ok("module M(c: bool) -> (y: real) { if c { let t = 1.0; y = t; } else { let t = 2.0; y = "
           "t; } }");
}

TEST_CASE("checker: properties", "[frontend][checker]") {
  const std::string mods =
      "enum Light { Red, Green }\n"
      "module C(x: real, l: Light) -> (go: bool) { go = x > 0.0 && l == Green; }\n"
      "module R() -> (u: real) { u ~ Uniform(0.0, 1.0); }\n";
  Program p = ok(mods + "property a: forall x in [0, 1], l in Light, b in bool: b || C(x, l);\n"
                        "property b: exists x in [0, 1]: C(x, Red);\n"
                        "property c: P[R](u > 0.5 | u > 0.25) >= 0.5;\n"
                        "property d: E[R](u) <= 1;\n"
                        "property e: always[C](go => x > 0.0);\n");
  const Expr& q = *p.properties[0]->body;
  REQUIRE(q.quantVars.size() == 3);
  CHECK(q.quantVars[0]->type == Type::real());
  CHECK(q.quantVars[0]->range->hi == 1.0);
  CHECK(q.quantVars[1]->type.kind == TypeKind::Enum);
  CHECK(q.quantVars[2]->type == Type::boolean());
  CHECK(errs(mods + "property z: P[Nope](true) <= 0.1;") ==
        V{"t.chs:4:15: error: unknown module 'Nope'"});
  CHECK(errs(mods + "property z: P[C](go) <= 0.1;") ==
        V{"t.chs:4:15: error: 'P[C]' needs a module without inputs; 'C' has 2"});
  CHECK(errs(mods + "property z: E[R](u);") ==
        V{"t.chs:4:13: error: property 'z' must be a bool expression, got real"});
  CHECK(errs(mods + "property z: forall x in [0, 1]: x + 1;") ==
        V{"t.chs:4:35: error: the body of 'forall' must be bool, got real"});
}

TEST_CASE("checker: a 10,000-line file checks quickly", "[frontend][checker][perf]") {
  std::string src = "module Big(a: real) -> (y: real) {\n  let x0 = a;\n";
  for (int i = 1; i < 10000; ++i)
    src += "  let x" + std::to_string(i) + " = x" + std::to_string(i - 1) + " * 0.5 + 1.0;\n";
  src += "  y = x9999;\n}\n";
  std::clock_t t0 = std::clock();
  Program p = ok(src);
  double secs = cpuSeconds(t0);
  CHECK(p.modules[0]->body.size() == 10001);
  CHECK(secs < 1.0 * kSlack);
}

TEST_CASE("checker: duplicate parameters and networks without outputs", "[frontend][checker]") {
  CHECK(errs("module M(x: real) -> (y: real, y: bool) {\n  y = x;\n}") ==
        V{"t.chs:1:32: error: duplicate parameter 'y' of module 'M'"});
  CHECK(errs("network N(x: real[2]) = onnx(\"net.onnx\");") ==
        V{"t.chs:1:9: error: network 'N' must have at least one output"});
  CHECK(errs("network N(x: int) -> (y: real) = onnx(\"net.onnx\");") ==
        V{"t.chs:1:14: error: network inputs and outputs must be real or real arrays; 'x' is int"});
}

TEST_CASE("checker: a module variable may not hide a quantified one", "[frontend][checker]") {
  CHECK(errs("module R() -> (u: real) { u ~ Uniform(0.0, 1.0); }\n"
             "property p: forall u in [0, 1]: always[R](u >= 0.0);") ==
        V{"t.chs:2:20: error: quantified variable 'u' is hidden by the variable 'u' of module 'R' "
          "inside 'always[R]'; rename it"});
  Program p = ok("module R() -> (u: real) { u ~ Uniform(0.0, 1.0); }\n"
                 "property p: P[R](u <= 0.5) <= 0.5;");
  const Expr& body = *p.properties[0]->body;
  CHECK(body.args[0]->kind == ExprKind::Prob);
  CHECK(body.args[0]->args[0]->args[0]->var == p.modules[0]->outputs[0]);
}

TEST_CASE("ast printer: the --emit=ast dump is exact and deterministic", "[frontend][printer]") {
  const std::string src = R"(/// Doc.
enum Color { Red, Green }
module M(a: int in [0, 3], c: Color) -> (y: real, v: real[2]) {
  var t: real;
  for i in 0..2 { v[i] ~ Normal(0.0, 1.0); }
  if c == Red { t = a; } else { t = 2.5; }
  assert t >= 0.0 : "non-negative";
  y = t + v[1];
}
property p: always[M](y > 0 - 100.0);
)";
  Program p = ok(src);
  const std::string want = "file t.chs\n"
                           "/// Doc.\n"
                           "enum Color { Red = 0, Green = 1 }\n"
                           "module M(a: int in [0, 3], c: Color) -> (y: real, v: real[2])\n"
                           "  var t: real\n"
                           "  for i in 0..2\n"
                           "    v[i] {output} ~ Normal(0.0, 1.0)\n"
                           "  if (c == Color.Red)\n"
                           "    t {var} = real(a) : real\n"
                           "  else\n"
                           "    t {var} = 2.5 : real\n"
                           "  assert (t >= 0.0) : \"non-negative\"\n"
                           "  y {output} = (t + v[1]) : real\n"
                           "property p: always[M]((y > (real(0) - 100.0)))\n"
                           "order: M\n";
  CHECK(printProgram(p) == want);
  CHECK(printProgram(ok(src)) == printProgram(p));
}

TEST_CASE("checker: suggestions for misspelt names; no cascade from a misspelt output",
          "[frontend][checker]") {
  CHECK(errs("module M(speed: real) -> (y: real) { y = spped; }") ==
        V{"t.chs:1:42: error: undefined name 'spped' (did you mean 'speed'?)"});
  CHECK(errs("module M(a: real) -> (brake: bool) { brak = a > 1.0; }") ==
        V{"t.chs:1:38: error: undefined name 'brak' (did you mean 'brake'?)"});
  CHECK(errs("module Sensor() -> (y: real) { y = 1.0; }\n"
             "module M() -> (y: real) { y = Sensr(); }") ==
        V{"t.chs:2:31: error: undefined module, network or function 'Sensr' (did you mean "
          "'Sensor'?)"});
  CHECK(errs("module M(a: real) -> (y: real) { y = sgmoid(a); }") ==
        V{"t.chs:1:38: error: undefined module, network or function 'sgmoid' (did you mean "
          "'sigmoid'?)"});
  // Nothing close enough: no suggestion.
  CHECK(errs("module M(a: real) -> (y: real) { y = zzz; }") ==
        V{"t.chs:1:38: error: undefined name 'zzz'"});
}

TEST_CASE("checker: many errors stay linear", "[frontend][checker][perf]") {
  std::string src = "module Big(a: real) -> (y: real) {\n";
  for (int i = 0; i < 5000; ++i)
    src += "  let v" + std::to_string(i) + " = nope" + std::to_string(i) + " + a;\n";
  src += "  y = a;\n}\n";
  std::clock_t t0 = std::clock();
  DiagnosticEngine d;
  (void)fromString(src, "t.chs", d);
  std::string out = d.str();
  double secs = cpuSeconds(t0);
  CHECK(d.errorCount() == 5000);
  CHECK(d.messages().front() == "t.chs:2:12: error: undefined name 'nope0'");
  CHECK(secs < 1.0 * kSlack);
}

TEST_CASE("checker: property shapes the back ends take", "[frontend][checker]") {
  const std::string n =
      "module N() -> (a: bool, b: bool) { a ~ Bernoulli(0.5); b ~ Bernoulli(0.2); "
      "}\n";
  CHECK(errs(n + "property p: P[N](a) <= P[N](b);") ==
        V{"t.chs:2:24: error: the bound of P[...] or E[...] must be a constant number"});
  CHECK(errs(n + "property p: P[N](a) <= 0.5 && P[N](b) <= 0.3;") ==
        V{"t.chs:2:13: error: quantifiers, always[], P[] and E[] are supported only at the top of "
          "a property (P[] and E[] compared with a constant)"});
  CHECK(errs(n + "property p: forall x in [0, 1]: P[N](a) <= x;") ==
        V{"t.chs:2:33: error: quantifiers, always[], P[] and E[] are supported only at the top of "
          "a property (P[] and E[] compared with a constant)"});
  (void)ok(n + "property p: 1 - 0.5 >= P[N](a | b);\nproperty q: always[N](a || !a);\n"
               "property r: forall x in [0, 1]: exists y in [0, 1]: x <= y;");
}

TEST_CASE("checker: properties run random modules only through always/P/E", "[frontend][checker]") {
  const std::string m = "module S(d: real) -> (r: real) { n ~ Normal(0.0, 1.0); r = d + n; }\n"
                        "module T(d: real) -> (r: real) { r = S(d); }\n"
                        "module D(d: real) -> (r: real) { r = d; }\n";
  CHECK(errs(m + "property p: forall x in [0, 1]: T(x) > -100.0;") ==
        V{"t.chs:4:33: error: property 'p' calls random module 'T' inside forall/exists; use "
          "always[T], P[T] or E[T]"});
  CHECK(errs(m + "module R() -> (u: real) { u = 0.5; }\nproperty p: always[R](S(u) > 0.0);") ==
        V{"t.chs:5:10: error: property 'p': a call of a random module inside always/P/E is not "
          "supported"});
  (void)ok(m + "property p: forall x in [0, 1]: D(x) >= 0.0;");
}
