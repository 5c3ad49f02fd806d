// Lowering + interpreter on small .chs programs given as strings (front end -> lower -> run):
// asserted outputs for arithmetic, loops, if, calls with named outputs, arrays, enums, every
// builtin, sampling determinism, observe/factor weights against hand-computed log densities,
// located assert and range errors, networks without a loader, properties, and the IR text.
#include "tests/symbolic/compile_chs.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/interp.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

using namespace chassis;
using namespace chassis::symbolic;

namespace {

using Compiled = testing::CompiledChs;
Compiled compile(const std::string& src) { return testing::compileChs(src); }

Expected<RunResult> runModule(const Compiled& c, const std::string& name,
                              std::vector<Value> in = {}, uint64_t seed = 0) {
  const ir::Function* f = c.ir.findFunction(name);
  REQUIRE(f);
  Rng rng(seed);
  return run(*f, in, rng);
}

/// Runs and returns the outputs printed as text, "name=value" joined by spaces.
std::string outputs(const Compiled& c, const std::string& name, std::vector<Value> in = {},
                    uint64_t seed = 0) {
  auto r = runModule(c, name, std::move(in), seed);
  if (!r) return r.error().str();
  const ir::Function* f = c.ir.findFunction(name);
  std::string s;
  for (size_t k = 0; k < f->outputs().size(); ++k)
    s += (k ? " " : "") + f->outputs()[k]->name() + "=" +
         formatValue(r->outputs[k], f->outputs()[k]->type(), c.ir.ctx());
  return s;
}

double normalLogPdf(double x, double mu, double sigma) {
  double z = (x - mu) / sigma;
  return -0.5 * std::log(2 * M_PI) - std::log(sigma) - 0.5 * z * z;
}

} // namespace

TEST_CASE("lang: arithmetic, let, var, if and loops", "[interp][lang]") {
  auto c = compile(R"(
module M(x: real, n: int) -> (y: real, k: int, b: bool, q: real, r: int) {
  let a = x * 2.0 + 1.0;
  var acc: int = 0;
  for i in 0..5 { acc = acc + i * n; }
  k = acc;
  if a > 3.0 { y = a - 3.0; } else if a > 0.0 { y = -a; } else { y = 100.0; }
  b = !(x < 0.0) && (n == 2 || false) => k > 1;
  q = n / 4;
  r = n % 3 - -n;
}
)");
  CHECK(outputs(c, "M", {Value::scalar(0.75), Value::scalar(2)}) == "y=-2.5 k=20 b=true q=0.5 r=4");
  CHECK(outputs(c, "M", {Value::scalar(5), Value::scalar(-7)}) ==
        "y=8.0 k=-70 b=true q=-1.75 r=-8");
}

TEST_CASE("lang: calls with named outputs, deterministic and random", "[interp][lang]") {
  auto c = compile(R"(
module Helper(a: real) -> (twice: real, square: real) { twice = a + a; square = a * a; }
module Noisy(a: real) -> (v: real) { e ~ Uniform(0.0, 1.0); v = a + e; }
module M(x: real) -> (y: real, z: real, w: real) {
  y = Helper(x).square + Helper(x + 1.0).twice;
  z = Noisy(x).v - Noisy(x).v;
  w = Helper(Helper(x).twice).square;
}
)");
  const ir::Function* m = c.ir.findFunction("M");
  REQUIRE(m);
  CHECK(!c.ir.findFunction("Helper")->isRandom());
  CHECK(c.ir.findFunction("Noisy")->isRandom());
  CHECK(m->isRandom());
  auto r = runModule(c, "M", {Value::scalar(3)}, 5);
  REQUIRE(r);
  CHECK(r->outputs[0].s == 9 + 8);
  CHECK(r->outputs[2].s == 36);
  REQUIRE(r->trace.choices.size() == 2);
  CHECK(r->trace.choices[0].address == "Noisy/e");
  CHECK(r->trace.choices[1].address == "Noisy#2/e");
  CHECK(r->outputs[1].s == Approx(r->trace.choices[0].value - r->trace.choices[1].value));
}

TEST_CASE("lang: arrays, enums and every builtin", "[interp][lang]") {
  auto c = compile(R"(
enum Gear { Low, Mid, High }
module Pick(s: real) -> (g: Gear) {
  if s < 10.0 { g = Gear.Low; } else if s < 20.0 { g = Mid; } else { g = High; }
}
module A(v: real[3], g: Gear) -> (s: real, d: real, am: int, rl: real[3], mn: real[3],
                                  e: real, l: real, sq: real, sg: real, th: real, ab: int,
                                  mx: real, isHigh: bool, arr: real[3], fromInt: real) {
  s = sum(v);
  d = dot(v, [1, 2, 3]);
  am = argmax(v);
  rl = relu(v);
  mn = min(v, [0.0, 0.0, 0.0]);
  e = exp(1);
  l = log(v[1]);
  sq = sqrt(v[1]);
  sg = sigmoid(0.0);
  th = tanh(0.0);
  ab = abs(-4);
  mx = max(2, 3.5);
  isHigh = g == Gear.High && Pick(25.0).g == High;
  var t: real[3];
  for i in 0..3 { t[i] = i * 1.5; }
  arr = t;
  fromInt = sum([1, 2, 3]) / 2;
}
)");
  CHECK(outputs(c, "Pick", {Value::scalar(15)}) == "g=Mid");
  CHECK(outputs(c, "A", {Value::array({-1, 4, 2}), Value::scalar(2)}) ==
        "s=5.0 d=13.0 am=1 rl=[0.0, 4.0, 2.0] mn=[-1.0, 0.0, 0.0] e=2.718281828459045 "
        "l=1.3862943611198906 sq=2.0 sg=0.5 th=0.0 ab=4 mx=3.5 isHigh=true arr=[0.0, 1.5, 3.0] "
        "fromInt=3.0");
  // log of a non-positive element: a located run-time error, not a NaN.
  CHECK(outputs(c, "A", {Value::array({-1, -4, 2}), Value::scalar(0)}) ==
        "t.chs:15:3: error: log of -4 (log needs a positive argument)");
}

TEST_CASE("lang: sampling determinism and weights", "[interp][lang]") {
  auto c = compile(R"(
module R(y: real[2]) -> (mu: real, n: int, flip: bool) {
  mu ~ Normal(1.0, 2.0);
  n ~ Poisson(3.0);
  flip ~ Bernoulli(0.25);
  for j in 0..2 { observe(Normal(mu, 0.5), y[j]); }
  observe(Poisson(2.0), 3);
  factor(-0.75);
}
)");
  std::vector<Value> in{Value::array({0.5, 1.5})};
  auto a = runModule(c, "R", in, 11), b = runModule(c, "R", in, 11), d = runModule(c, "R", in, 12);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(d);
  REQUIRE(a->trace.choices.size() == 3);
  CHECK(a->trace.choices[0].address == "mu");
  for (size_t k = 0; k < 3; ++k)
    CHECK(a->trace.choices[k].value == b->trace.choices[k].value);
  CHECK(a->trace.choices[0].value != d->trace.choices[0].value);
  double mu = a->outputs[0].s;
  double n = a->outputs[1].s;
  CHECK(n == std::floor(n));
  double poisson3 = n * std::log(3.0) - 3.0 - std::lgamma(n + 1);
  double flipLp = a->outputs[2].s != 0 ? std::log(0.25) : std::log(0.75);
  CHECK(a->trace.logPrior == Approx(normalLogPdf(mu, 1, 2) + poisson3 + flipLp).epsilon(1e-12));
  double lik = normalLogPdf(0.5, mu, 0.5) + normalLogPdf(1.5, mu, 0.5) +
               (3 * std::log(2.0) - 2.0 - std::log(6.0));
  CHECK(a->trace.logLikelihood == Approx(lik).epsilon(1e-12));
  CHECK(a->trace.logWeight() == Approx(lik - 0.75).epsilon(1e-12));
}

TEST_CASE("lang: located run-time errors", "[interp][lang]") {
  auto c = compile(R"(
module Ctl(reading: real in [0, 200]) -> (ok: bool) {
  assert reading < 150.0 : "reading below 150";
  ok = true;
}
module Bad(s: real) -> (x: real) {
  x ~ Normal(0.0, s);
}
module Idx(k: int) -> (x: real) {
  let v = [1.0, 2.0];
  x = v[k];
}
)");
  CHECK(outputs(c, "Ctl", {Value::scalar(160)}) ==
        "t.chs:3:3: error: assertion failed: reading below 150");
  CHECK(outputs(c, "Ctl", {Value::scalar(10)}) == "ok=true");
  CHECK(outputs(c, "Bad", {Value::scalar(-1)}) ==
        "t.chs:7:3: error: invalid distribution parameter: Normal: sigma must be > 0, got -1");
  CHECK(outputs(c, "Idx", {Value::scalar(2)}) ==
        "t.chs:11:3: error: index 2 is out of range [0, 2)");
  auto r = runModule(c, "Ctl", {Value::scalar(250)});
  REQUIRE(!r);
  CHECK(r.error().message == "input 'reading' = 250 is outside its range [0, 200]");
}

TEST_CASE("lang: networks without a loader, with a loader, and properties", "[interp][lang]") {
  const char* src = R"(
network Policy(x: real[2]) -> (y: real[2]) = onnx("policy.onnx");
module UsePolicy(a: real) -> (o: real) { o = Policy([a, 1.0]).y[0]; }
module Braking() -> (distance: real, speed: real, brake: bool) {
  distance ~ Uniform(0.0, 100.0);
  speed ~ Uniform(0.0, 30.0);
  brake = distance < 10.0;
}
module Ctl(r: real in [0, 200], s: real in [0, 40]) -> (brake: bool) {
  brake = r <= s * s / 12.0 + 5.0;
}
property close: forall r in [0, 10], s in [5, 30]: Ctl(r, s).brake;
property late: P[Braking](distance < speed && !brake | speed > 1) <= 0.01;
property slow: always[Braking](speed > 10 || brake);
property mean: 20 >= E[Braking](speed);
)";
  auto c = compile(src);
  auto r = runModule(c, "UsePolicy", {Value::scalar(1)});
  REQUIRE(!r);
  CHECK(r.error().str() == "t.chs:3:42: error: network 'Policy' is declared but networks cannot be "
                           "loaded yet (file policy.onnx)");

  REQUIRE(c.ir.properties.size() == 4);
  std::ostringstream os;
  for (auto& p : c.ir.properties) {
    os << p.name << ":" << ir::propertyKindName(p.kind) << ":" << p.vars.size() << ":"
       << (p.module ? p.module->name() : "-") << ":" << ir::str(p.body, c.ir.ctx());
    if (p.given) os << "|" << ir::str(p.given, c.ir.ctx());
    if (p.kind == ir::PropertyKind::Probability || p.kind == ir::PropertyKind::Expectation)
      os << ":" << ir::spelling(p.cmp) << ir::formatReal(p.bound);
    os << "\n";
  }
  CHECK(os.str() == "close:forall:2:-:Ctl(r, s).brake\n"
                    "late:P:0:Braking:(distance < speed) && !brake|speed > 1.0:<=0.01\n"
                    "slow:always:0:Braking:(speed > 10.0) || brake\n"
                    "mean:E:0:Braking:speed:<=20.0\n");
  // A forall body evaluates in a frame of the quantified variables.
  const ir::Property& close = c.ir.properties[0];
  CHECK(close.vars[0].lo == 0);
  CHECK(close.vars[0].hi == 10);
  std::vector<Value> frame{Value::scalar(3), Value::scalar(10)};
  auto v = evaluate(close.body, frame, close.loc);
  REQUIRE(v);
  CHECK(v->s == 1);
  frame[1] = Value::scalar(5); // 3 <= 25/12 + 5
  CHECK(evaluate(close.body, frame, close.loc)->s == 1);
  frame[0] = Value::scalar(9); // 9 > 7.08
  CHECK(evaluate(close.body, frame, close.loc)->s == 0);
  // An event is evaluated in the module's frame after a run.
  auto run1 = runModule(c, "Braking", {}, 2);
  REQUIRE(run1);
  auto ev = evaluate(c.ir.properties[2].body, run1->frame, {});
  REQUIRE(ev);
  CHECK(ev->s == double(run1->outputs[1].s > 10 || run1->outputs[2].s != 0));

  // A loader plugs a network function in: here an identity layer built by hand.
  ir::LowerOptions opt;
  opt.networkLoader = [](const spec::NetworkDecl& d,
                         ir::Program& p) -> Expected<const ir::Function*> {
    ir::Function& f = p.addFunction(d.name, ir::FunctionKind::Network, d.loc);
    const ir::Var* x = f.addInput("x", ir::Type::array(ir::Type::real(), 2));
    const ir::Var* y = f.addOutput("y", ir::Type::array(ir::Type::real(), 2));
    auto l = std::make_shared<ir::DenseLayer>(ir::DenseLayer{
        2, 2, std::make_shared<const std::vector<double>>(std::vector<double>{2, 0, 0, 1}),
        std::make_shared<const std::vector<double>>(std::vector<double>{0.5, 0})});
    f.setBody({p.ctx().stmt<ir::AssignStmt>(d.loc, y, p.ctx().vecRelu(p.ctx().affine(l, x)))});
    return &f;
  };
  spec::DiagnosticEngine diags;
  auto ast = spec::fromString(src, "t.chs", diags);
  REQUIRE(ast);
  auto withNet = ir::lower(*ast, opt);
  REQUIRE(withNet);
  Rng rng(0);
  auto rn = run(*withNet->findFunction("UsePolicy"), std::vector<Value>{Value::scalar(1.5)}, rng);
  REQUIRE(rn);
  CHECK(rn->outputs[0].s == 3.5);
}

TEST_CASE("lang: lowered IR text", "[ir][lang]") {
  auto c = compile(R"(
module S(d: real) -> (r: real) { n ~ Normal(0.0, 0.5); r = d + n; }
module M(ys: real[2]) -> (t: real[2]) {
  for i in 0..2 {
    t[i] ~ Normal(S(ys[i]).r, 1.0);
  }
}
)");
  std::ostringstream os;
  ir::print(c.ir, os);
  CHECK(os.str() == R"(module S(d: real) -> (r: real) random {
  n ~ Normal(0.0, 0.5) @ n
  r = d + n
}
module M(ys: real[2]) -> (t: real[2]) random {
  for i in 0..2 {
    (S.r) = call S(ys[i]) @ S[i]
    t.draw ~ Normal(S.r, 1.0) @ t[i]
    t = update(t, i, t.draw)
  }
}
)");
}

TEST_CASE("lang: quantifier prefixes with alternation", "[ir][lang]") {
  auto c = compile(R"(
enum Light { Red, Amber, Green }
module Go(light: Light, speed: real in [0, 40], emergency: bool) -> (go: bool, accel: real) {
    go = (light == Green || emergency) && speed < 35.0;
    accel = if go then 1.0 else -1.0;
}
property nested:
    forall s in [0, 30], e in bool: exists l in Light: Go(l, s, e).accel > 0.0;
property closed: Go(Red, 1.0, true).go;
)");
  REQUIRE(c.ir.properties.size() == 2);
  const ir::Property& p = c.ir.properties[0];
  CHECK(p.kind == ir::PropertyKind::Forall);
  REQUIRE(p.vars.size() == 3);
  CHECK(!p.vars[0].exists);
  CHECK(!p.vars[1].exists);
  CHECK(p.vars[2].exists);
  CHECK(p.vars[1].hi == 1);
  CHECK(p.vars[2].hi == 2); // Red, Amber, Green
  std::ostringstream os;
  ir::print(c.ir, os);
  std::string text = os.str();
  CHECK(text.find("property nested: forall s: real in [0.0, 30.0], e: bool: exists l: Light:\n"
                  "  Go(l, s, e).accel > 0.0\n") != std::string::npos);
  CHECK(text.find("property closed: forall:\n  Go(Light.Red, 1.0, true).go\n") !=
        std::string::npos);
  // exists l: Go(l, 10, false).accel > 0 holds by l = Green; evaluate the body per l.
  std::vector<Value> frame{Value::scalar(10), Value::scalar(0), Value::scalar(0)};
  int holds = 0;
  for (int l = 0; l < 3; ++l) {
    frame[2] = Value::scalar(l);
    auto v = evaluate(p.body, frame, p.loc);
    REQUIRE(v);
    holds += v->s != 0;
  }
  CHECK(holds == 1);
}

TEST_CASE("lang: addresses are unique within a trace", "[interp][lang]") {
  auto c = compile(R"(
module Noise() -> (v: real) { e ~ Normal(0.0, 1.0); v = e; }
module M() -> (y: real[2], z: real[3]) {
  var w: real;
  w ~ Normal(0.0, 1.0);
  w ~ Normal(w, 1.0);
  var yy: real[2];
  var e: real;
  for i in 0..3 {
    z[i] ~ Normal(0.0, 1.0);
    for j in 0..2 {
      yy[j] ~ Normal(0.0, 1.0);
      e ~ Normal(0.0, 1.0);
      let n = Noise().v;
    }
  }
  y = yy;
}
)");
  auto r = runModule(c, "M", {}, 3);
  REQUIRE(r);
  std::vector<std::string> addrs;
  for (auto& ch : r->trace.choices)
    addrs.push_back(ch.address);
  std::vector<std::string> want = {"w", "w#2"};
  for (int i = 0; i < 3; ++i) {
    want.push_back("z[" + std::to_string(i) + "]");
    for (int j = 0; j < 2; ++j) {
      std::string ij = "[" + std::to_string(i) + "][" + std::to_string(j) + "]";
      want.push_back("yy" + ij);
      want.push_back("e" + ij);
      want.push_back("Noise" + ij + "/e");
    }
  }
  CHECK(addrs == want);
  // y holds the last draw of each y[j] (i = 2).
  CHECK(r->outputs[0].a[1] == r->trace.find("yy[2][1]")->value);
  CHECK(r->outputs[1].a[2] == r->trace.find("z[2]")->value);
}

TEST_CASE("lang: a random call on a conditional path is refused, not hoisted", "[interp][lang]") {
  const char* src = R"(
module Noisy(a: real) -> (v: real) { e ~ Normal(a, 1.0); observe(Normal(e, 1.0), 0.0); v = e; }
module Ok(c: bool) -> (v: real) {
  let first = Noisy(1.0).v;
  if c { v = Noisy(2.0).v; } else { v = first; }
}
module Bad(c: bool) -> (v: real) {
  v = if c then Noisy(2.0).v else 0.0;
}
)";
  spec::DiagnosticEngine diags;
  auto ast = spec::fromString(src, "t.chs", diags);
  REQUIRE(ast);
  auto prog = ir::lower(*ast);
  REQUIRE(!prog);
  CHECK(prog.error().str().rfind("t.chs:8:17: error: a call of random module 'Noisy' inside a "
                                 "conditional expression",
                                 0) == 0);
  // Without Bad, the if statement makes the second call only on its path.
  std::string okSrc = src;
  okSrc = okSrc.substr(0, okSrc.find("module Bad"));
  auto c = compile(okSrc);
  auto yes = runModule(c, "Ok", {Value::scalar(1)}, 4);
  auto no = runModule(c, "Ok", {Value::scalar(0)}, 4);
  REQUIRE(yes);
  REQUIRE(no);
  CHECK(yes->trace.choices.size() == 2);
  CHECK(yes->trace.numObserves == 2);
  REQUIRE(no->trace.choices.size() == 1);
  CHECK(no->trace.numObserves == 1);
  CHECK(no->trace.choices[0].address == "Noisy/e");
  CHECK(yes->trace.choices[1].address == "Noisy#2/e");
  CHECK(no->outputs[0].s == no->trace.choices[0].value);
}
