// Interpreter tests on IR built by hand (independent of the front end): values of every builtin,
// loops and arrays, if, calls with named outputs, layers, sampling determinism, replay, observe /
// factor / condition weights against hand-computed log densities, and located run-time errors.
#include "symbolic/interp.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace chassis;
using namespace chassis::ir;
using namespace chassis::symbolic;

namespace {

SourceLoc at(int line) {
  return SourceLoc{"m.chs", line, 3};
}

Expected<RunResult> run0(const Function& f, std::vector<Value> in = {}, uint64_t seed = 0,
                         const RunOptions& opt = {}) {
  Rng rng(seed);
  return run(f, in, rng, opt);
}

} // namespace

TEST_CASE("interp: every builtin and operator gives its value", "[interp]") {
  Program p;
  Context& c = p.ctx();
  Function& f = p.addFunction("F", FunctionKind::Module);
  const Var* x = f.addInput("x", Type::real());                 // 0.5
  const Var* n = f.addInput("n", Type::integer());              // -7
  const Var* v = f.addInput("v", Type::array(Type::real(), 3)); // [1, 5, -2]
  struct Out {
    std::string name;
    Expr e;
    double want;
  };
  Expr two = c.intConst(2);
  std::vector<Out> outs = {
      {"min", c.binary(BinOp::Min, x, c.realConst(0.25)), 0.25},
      {"max", c.binary(BinOp::Max, x, c.realConst(0.25)), 0.5},
      {"abs", c.unary(UnOp::Abs, n), 7},
      {"relu_neg", c.unary(UnOp::Relu, c.unary(UnOp::Neg, x)), 0},
      {"relu_pos", c.unary(UnOp::Relu, x), 0.5},
      {"exp", c.unary(UnOp::Exp, x), std::exp(0.5)},
      {"log", c.unary(UnOp::Log, x), std::log(0.5)},
      {"sqrt", c.unary(UnOp::Sqrt, x), std::sqrt(0.5)},
      {"sigmoid", c.unary(UnOp::Sigmoid, x), 1 / (1 + std::exp(-0.5))},
      {"sigmoid_neg", c.unary(UnOp::Sigmoid, c.realConst(-800.0)), 0.0},
      {"tanh", c.unary(UnOp::Tanh, x), std::tanh(0.5)},
      {"sum", c.unary(UnOp::Sum, v), 4},
      {"dot", c.binary(BinOp::Dot, v, v), 30},
      {"argmax", c.unary(UnOp::Argmax, v), 1},
      {"intdiv", c.binary(BinOp::Div, n, two), -3},
      {"mod", c.binary(BinOp::Mod, n, two), -1},
      {"realdiv", c.binary(BinOp::Div, c.unary(UnOp::ToReal, n), c.realConst(2.0)), -3.5},
      {"arith", c.binary(BinOp::Sub, c.binary(BinOp::Mul, x, x), c.realConst(1.0)), -0.75},
      {"index", c.index(v, c.intConst(2)), -2},
      {"select",
       c.select(c.binary(BinOp::Lt, x, c.realConst(1.0)), c.realConst(10.0), c.realConst(20.0)),
       10},
  };
  Block body;
  for (auto& o : outs) {
    const Var* out = f.addOutput(o.name, o.e->type());
    body.push_back(c.stmt<AssignStmt>(at(1), out, o.e));
  }
  // Logic, with short-circuit: the right operand would divide by zero.
  Expr guard = c.binary(BinOp::And, c.binary(BinOp::Ne, n, n),
                        c.binary(BinOp::Gt, c.binary(BinOp::Div, x, c.realConst(0.0)), x));
  const Var* logic = f.addOutput("logic", Type::boolean());
  body.push_back(c.stmt<AssignStmt>(
      at(2), logic,
      c.binary(BinOp::Or, guard, c.binary(BinOp::Implies, c.boolConst(false), guard))));
  f.setBody(body);
  auto r = run0(f, {Value::scalar(0.5), Value::scalar(-7), Value::array({1, 5, -2})});
  REQUIRE(r);
  for (size_t k = 0; k < outs.size(); ++k) {
    INFO(outs[k].name);
    CHECK(r->outputs[k].s == Approx(outs[k].want).margin(1e-15));
  }
  CHECK(r->outputs.back().s == 1);
  CHECK(!r->trace.weighted());
}

TEST_CASE("interp: loops, arrays, if and calls with named outputs", "[interp]") {
  Program p;
  Context& c = p.ctx();
  // Helper(a) -> (twice, square)
  Function& h = p.addFunction("Helper", FunctionKind::Module);
  const Var* a = h.addInput("a", Type::real());
  const Var* twice = h.addOutput("twice", Type::real());
  const Var* square = h.addOutput("square", Type::real());
  h.setBody({c.stmt<AssignStmt>(at(1), twice, c.binary(BinOp::Add, a, a)),
             c.stmt<AssignStmt>(at(2), square, c.binary(BinOp::Mul, a, a))});
  // Main() -> (ys: real[4], total: real, big: bool): ys[i] = Helper(i).square + call-stmt twice
  Function& m = p.addFunction("Main", FunctionKind::Module);
  const Var* ys = m.addOutput("ys", Type::array(Type::real(), 4));
  const Var* total = m.addOutput("total", Type::real());
  const Var* big = m.addOutput("big", Type::boolean());
  const Var* i = m.newVar("i", Type::integer(), VarRole::LoopIndex);
  const Var* t = m.newVar("t", Type::real(), VarRole::Local);
  const Var* sq = m.newVar("sq", Type::real(), VarRole::Local);
  Expr ir = c.unary(UnOp::ToReal, i);
  Expr viaExpr = c.callResult(c.call(h, {ir}), h.outputIndex("square"));
  m.setBody(
      {c.stmt<ForStmt>(
           at(3), i, 0, 4,
           Block{c.stmt<CallStmt>(at(4), std::vector<const Var*>{t, sq}, &h, std::vector<Expr>{ir},
                                  "Helper", std::vector<Expr>{i}),
                 c.stmt<AssignStmt>(at(5), ys, c.update(ys, i, c.binary(BinOp::Add, viaExpr, t)))}),
       c.stmt<AssignStmt>(at(6), total, c.unary(UnOp::Sum, ys)),
       c.stmt<IfStmt>(at(7), c.binary(BinOp::Gt, total, c.realConst(10.0)),
                      Block{c.stmt<AssignStmt>(at(8), big, c.boolConst(true))},
                      Block{c.stmt<AssignStmt>(at(9), big, c.boolConst(false))})});
  auto r = run0(m);
  REQUIRE(r);
  // ys[i] = i^2 + 2i = 0, 3, 8, 15
  CHECK(r->outputs[0] == Value::array({0, 3, 8, 15}));
  CHECK(r->outputs[1].s == 26);
  CHECK(r->outputs[2].s == 1);
  CHECK(formatValue(r->outputs[0], ys->type(), c) == "[0.0, 3.0, 8.0, 15.0]");
  CHECK(formatValue(r->outputs[2], big->type(), c) == "true");
}

TEST_CASE("interp: dense layers", "[interp]") {
  Program p;
  Context& c = p.ctx();
  Function& net = p.addFunction("Net", FunctionKind::Network);
  const Var* x = net.addInput("x", Type::array(Type::real(), 2));
  const Var* y = net.addOutput("y", Type::array(Type::real(), 2));
  auto l = std::make_shared<DenseLayer>(DenseLayer{
      2, 2, std::make_shared<const std::vector<double>>(std::vector<double>{1, 2, -1, 1}),
      std::make_shared<const std::vector<double>>(std::vector<double>{0.5, 0})});
  net.setBody({c.stmt<AssignStmt>(at(1), y, c.vecRelu(c.affine(l, x)))});
  auto r = run0(net, {Value::array({1, 3})});
  REQUIRE(r);
  CHECK(r->outputs[0] == Value::array({7.5, 2})); // [1+6+0.5, -1+3]
  auto r2 = run0(net, {Value::array({3, 1})});
  REQUIRE(r2);
  CHECK(r2->outputs[0] == Value::array({5.5, 0})); // relu(-2) = 0
}

namespace {

/// Model() -> (mu: real, theta: real[3]): mu ~ Normal(0, 1); theta[i] ~ Normal(mu, 1);
/// observe Normal(theta[i], 2) = 0.5 for each i; factor(-1.25).
struct Hier {
  Program p;
  Function* m;
  Hier() {
    Context& c = p.ctx();
    m = &p.addFunction("Model", FunctionKind::Module);
    const Var* mu = m->addOutput("mu", Type::real());
    const Var* theta = m->addOutput("theta", Type::array(Type::real(), 3));
    const Var* i = m->newVar("i", Type::integer(), VarRole::LoopIndex);
    const Var* t = m->newVar("t", Type::real(), VarRole::Random);
    m->setBody({c.stmt<SampleStmt>(at(1), mu, DistKind::Normal,
                                   std::vector<Expr>{c.realConst(0.0), c.realConst(1.0)}, "mu",
                                   std::vector<Expr>{}),
                c.stmt<ForStmt>(at(2), i, 0, 3,
                                Block{c.stmt<SampleStmt>(at(3), t, DistKind::Normal,
                                                         std::vector<Expr>{mu, c.realConst(1.0)},
                                                         "theta", std::vector<Expr>{i}),
                                      c.stmt<AssignStmt>(at(3), theta, c.update(theta, i, t)),
                                      c.stmt<ObserveStmt>(at(4), DistKind::Normal,
                                                          std::vector<Expr>{t, c.realConst(2.0)},
                                                          c.realConst(0.5))}),
                c.stmt<FactorStmt>(at(5), c.realConst(-1.25))});
  }
};

double normalLogPdf(double x, double mu, double sigma) {
  double z = (x - mu) / sigma;
  return -0.5 * std::log(2 * M_PI) - std::log(sigma) - 0.5 * z * z;
}

} // namespace

TEST_CASE("interp: sampling is deterministic per seed; weights are the log densities", "[interp]") {
  Hier h;
  auto a = run0(*h.m, {}, 7), b = run0(*h.m, {}, 7), d = run0(*h.m, {}, 8);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(d);
  REQUIRE(a->trace.choices.size() == 4);
  CHECK(a->trace.choices[0].address == "mu");
  CHECK(a->trace.choices[3].address == "theta[2]");
  for (size_t k = 0; k < 4; ++k)
    CHECK(a->trace.choices[k].value == b->trace.choices[k].value);
  CHECK(a->trace.choices[0].value != d->trace.choices[0].value);

  // The trace's totals, recomputed by hand from the drawn values.
  const Trace& tr = a->trace;
  double mu = tr.choices[0].value;
  double prior = normalLogPdf(mu, 0, 1), lik = 0;
  for (int i = 1; i <= 3; ++i) {
    double th = tr.choices[i].value;
    CHECK(a->outputs[1].a[i - 1] == th);
    prior += normalLogPdf(th, mu, 1);
    lik += normalLogPdf(0.5, th, 2);
  }
  CHECK(a->outputs[0].s == mu);
  CHECK(tr.logPrior == Approx(prior).epsilon(1e-12));
  CHECK(tr.logLikelihood == Approx(lik).epsilon(1e-12));
  CHECK(tr.logFactor == -1.25);
  CHECK(tr.logWeight() == Approx(lik - 1.25).epsilon(1e-12));
  CHECK(tr.numObserves == 3);
  CHECK(tr.weighted());

  // Replay: fixed values are used and scored; the others are drawn.
  std::unordered_map<std::string, double> fixed{{"mu", 1.0}, {"theta[1]", -0.5}};
  RunOptions opt;
  opt.replay = &fixed;
  auto r = run0(*h.m, {}, 3, opt);
  REQUIRE(r);
  CHECK(r->outputs[0].s == 1.0);
  CHECK(r->outputs[1].a[1] == -0.5);
  CHECK(r->trace.choices[0].replayed);
  CHECK(!r->trace.choices[1].replayed);
  CHECK(r->trace.choices[0].logProb == Approx(normalLogPdf(1.0, 0, 1)));
  CHECK(r->trace.choices[2].logProb == Approx(normalLogPdf(-0.5, 1.0, 1)));
  // Replaying a whole trace reproduces it exactly, whatever the seed.
  auto all = a->trace.values();
  opt.replay = &all;
  auto again = run0(*h.m, {}, 12345, opt);
  REQUIRE(again);
  CHECK(again->trace.logJoint() == a->trace.logJoint());
}

TEST_CASE("interp: conditions, and addresses under call sites", "[interp]") {
  Program p;
  Context& c = p.ctx();
  Function& s = p.addFunction("Sensor", FunctionKind::Module);
  const Var* d = s.addInput("d", Type::real());
  const Var* reading = s.addOutput("reading", Type::real());
  const Var* noise = s.newVar("noise", Type::real(), VarRole::Random);
  s.setBody({c.stmt<SampleStmt>(at(1), noise, DistKind::Uniform,
                                std::vector<Expr>{c.realConst(-1.0), c.realConst(1.0)}, "noise",
                                std::vector<Expr>{}),
             c.stmt<AssignStmt>(at(2), reading, c.binary(BinOp::Add, d, noise))});
  Function& m = p.addFunction("M", FunctionKind::Module);
  const Var* out = m.addOutput("out", Type::real());
  const Var* r1 = m.newVar("r1", Type::real(), VarRole::Local);
  const Var* r2 = m.newVar("r2", Type::real(), VarRole::Local);
  m.setBody(
      {c.stmt<CallStmt>(at(3), std::vector<const Var*>{r1}, &s,
                        std::vector<Expr>{c.realConst(10.0)}, "Sensor", std::vector<Expr>{}),
       c.stmt<CallStmt>(at(4), std::vector<const Var*>{r2}, &s,
                        std::vector<Expr>{c.realConst(20.0)}, "Sensor#2", std::vector<Expr>{}),
       c.stmt<AssignStmt>(at(5), out, c.binary(BinOp::Sub, r2, r1)),
       c.stmt<ConditionStmt>(at(6), c.binary(BinOp::Gt, out, c.realConst(10.0)))});
  CHECK(m.isRandom());
  CHECK(m.hasWeight());
  auto r = run0(m, {}, 1);
  REQUIRE(r);
  REQUIRE(r->trace.choices.size() == 2);
  CHECK(r->trace.choices[0].address == "Sensor/noise");
  CHECK(r->trace.choices[1].address == "Sensor#2/noise");
  CHECK(r->trace.choices[0].logProb == Approx(std::log(0.5)));
  double diff = 10 + r->trace.choices[1].value - r->trace.choices[0].value;
  CHECK(r->outputs[0].s == Approx(diff));
  CHECK(r->trace.conditionFailed == !(diff > 10));
  // Replay both choices so the condition fails / holds deterministically.
  std::unordered_map<std::string, double> fail{{"Sensor/noise", 0.5}, {"Sensor#2/noise", 0.0}};
  RunOptions opt;
  opt.replay = &fail;
  auto rf = run0(m, {}, 1, opt);
  REQUIRE(rf);
  CHECK(rf->trace.conditionFailed);
  CHECK(std::isinf(rf->trace.logWeight()));
  std::unordered_map<std::string, double> hold{{"Sensor/noise", -0.5}, {"Sensor#2/noise", 0.0}};
  opt.replay = &hold;
  auto rh = run0(m, {}, 1, opt);
  REQUIRE(rh);
  CHECK(!rh->trace.conditionFailed);
  CHECK(rh->trace.logWeight() == 0);
  CHECK(rh->trace.logJoint() == Approx(2 * std::log(0.5)));
}

TEST_CASE("interp: run-time errors name the failing statement", "[interp]") {
  Program p;
  Context& c = p.ctx();
  Function& callee = p.addFunction("Ctl", FunctionKind::Module);
  const Var* reading = callee.addInput("reading", Type::real(), std::pair{0.0, 200.0});
  const Var* ok = callee.addOutput("ok", Type::boolean());
  callee.setBody(
      {c.stmt<AssertStmt>(SourceLoc{"ctl.chs", 4, 5},
                          c.binary(BinOp::Lt, reading, c.realConst(150.0)), "reading below 150"),
       c.stmt<AssignStmt>(at(5), ok, c.boolConst(true))});
  Function& f = p.addFunction("F", FunctionKind::Module);
  const Var* x = f.addInput("x", Type::real());
  const Var* k = f.addInput("k", Type::integer());
  const Var* out = f.addOutput("out", Type::real());
  const Var* b = f.addOutput("b", Type::boolean());
  const Var* arr = f.newVar("arr", Type::array(Type::real(), 3), VarRole::Local);
  const Var* s = f.newVar("s", Type::real(), VarRole::Random);
  // x selects which statement fails: 1 division by zero, 2 index, 3 invalid sigma, 4 assert in
  // the callee, 5 callee input out of range, 6 log of a negative.
  auto when = [&](double v, Stmt st) {
    return c.stmt<IfStmt>(at(90), c.binary(BinOp::Eq, x, c.realConst(v)), Block{st}, Block{});
  };
  f.setBody({
      when(1, c.stmt<AssignStmt>(at(11), out, c.binary(BinOp::Div, x, c.realConst(0.0)))),
      when(2, c.stmt<AssignStmt>(at(12), out, c.index(arr, k))),
      when(3, c.stmt<SampleStmt>(at(13), s, DistKind::Normal,
                                 std::vector<Expr>{c.realConst(0.0), c.realConst(-1.0)}, "s",
                                 std::vector<Expr>{})),
      when(4, c.stmt<AssignStmt>(at(14), b, c.callResult(c.call(callee, {c.realConst(160.0)}), 0))),
      when(5, c.stmt<AssignStmt>(at(15), b, c.callResult(c.call(callee, {c.realConst(250.0)}), 0))),
      when(6, c.stmt<AssignStmt>(at(16), out, c.unary(UnOp::Log, c.unary(UnOp::Neg, x)))),
  });
  auto err = [&](double which, int64_t idx = 0) {
    auto r = run0(f, {Value::scalar(which), Value::scalar(double(idx))});
    REQUIRE(!r);
    return r.error().str();
  };
  CHECK(err(1) == "m.chs:11:3: error: division by zero");
  CHECK(err(2, 3) == "m.chs:12:3: error: index 3 is out of range [0, 3)");
  CHECK(err(2, -1) == "m.chs:12:3: error: index -1 is out of range [0, 3)");
  CHECK(err(3) ==
        "m.chs:13:3: error: invalid distribution parameter: Normal: sigma must be > 0, got -1");
  CHECK(err(4) == "ctl.chs:4:5: error: assertion failed: reading below 150");
  CHECK(err(5) ==
        "m.chs:15:3: error: input 'reading' = 250 is outside its range [0, 200] (calling 'Ctl')");
  CHECK(err(6) == "m.chs:16:3: error: log of -6 (log needs a positive argument)");
  auto fine = run0(f, {Value::scalar(0), Value::scalar(2)});
  CHECK(fine);

  // Top-level inputs are checked too.
  auto bad = run0(callee, {Value::scalar(250)});
  REQUIRE(!bad);
  CHECK(bad.error().message == "input 'reading' = 250 is outside its range [0, 200]");
  CHECK(checkInput(f, 1, Value::scalar(1.5)) == "input 'k' = 1.5 is not an integer");

  // A network that is declared but not loaded.
  Function& net = p.addFunction("Policy", FunctionKind::External);
  net.setExternalFile("policy.onnx");
  const Var* nx = net.addInput("x", Type::real());
  net.addOutput("y", Type::real());
  Function& g = p.addFunction("G", FunctionKind::Module);
  const Var* gy = g.addOutput("y", Type::real());
  g.setBody({c.stmt<AssignStmt>(at(20), gy, c.callResult(c.call(net, {c.realConst(1.0)}), 0))});
  (void)nx;
  auto rn = run0(g);
  REQUIRE(!rn);
  CHECK(rn.error().str() == "m.chs:20:3: error: network 'Policy' is declared but networks cannot "
                            "be loaded yet (file policy.onnx)");
}

TEST_CASE("interp: stopping after k observes (for SMC by re-execution)", "[interp]") {
  Hier h;
  RunOptions opt;
  opt.stopAfterObserves = 2;
  auto r = run0(*h.m, {}, 7, opt);
  REQUIRE(r);
  CHECK(r->stopped);
  CHECK(r->outputs.empty());
  CHECK(r->trace.numObserves == 2);
  CHECK(r->trace.choices.size() == 3); // mu, theta[0], theta[1]
  CHECK(r->trace.numFactors == 0);
  // The partial trace is the prefix of the full run with the same seed.
  auto full = run0(*h.m, {}, 7);
  REQUIRE(full);
  CHECK(!full->stopped);
  for (size_t k = 0; k < 3; ++k)
    CHECK(r->trace.choices[k].value == full->trace.choices[k].value);
  opt.stopAfterObserves = 0;
  auto none = run0(*h.m, {}, 7, opt);
  REQUIRE(none);
  CHECK(none->stopped);
  CHECK(none->trace.choices.empty());
  // Without recording, the totals are the same.
  RunOptions quiet;
  quiet.recordChoices = false;
  auto q = run0(*h.m, {}, 7, quiet);
  REQUIRE(q);
  CHECK(q->trace.choices.empty());
  CHECK(q->trace.logJoint() == full->trace.logJoint());
}

TEST_CASE("interp: input values from text and JSON", "[interp]") {
  Program p;
  Context& c = p.ctx();
  int light = c.addEnum({"Light", {"Red", "Green"}, {}});
  Function& f = p.addFunction("F", FunctionKind::Module);
  f.addInput("x", Type::real());
  f.addInput("n", Type::integer(), std::pair{0.0, 10.0});
  f.addInput("ys", Type::array(Type::real(), 3));
  f.addInput("l", Type::enumeration(light));
  f.addInput("b", Type::boolean());
  auto val = [&](std::string_view text, int k) {
    return parseValue(text, f.inputs()[k].var->type(), c,
                      "input '" + f.inputs()[k].var->name() + "'");
  };
  CHECK(val("1.5", 0)->s == 1.5);
  CHECK(val("-2", 0)->s == -2);
  CHECK(val("7", 1)->s == 7);
  CHECK(val("[1, 2.5,3]", 2)->a == std::vector<double>{1, 2.5, 3});
  CHECK(val("Green", 3)->s == 1);
  CHECK(val("\"Red\"", 3)->s == 0);
  CHECK(val("true", 4)->s == 1);
  CHECK(val("true", 0).error().message == "input 'x' should be real, got true");
  CHECK(val("1.5", 1).error().message == "input 'n' should be int, got 1.5");
  CHECK(val("[1,2]", 2).error().message == "input 'ys' should have 3 elements, got 2");
  CHECK(val("[1,true,3]", 2).error().message == "input 'ys[1]' should be real, got true");
  CHECK(val("Blue", 3).error().message ==
        "input 'l' should be a constant of enum Light (Red, Green), got Blue");
  CHECK(val("abc", 0).error().message == "input 'x' should be real, got \"abc\"");
  // Bytes that are not UTF-8 are shown as U+FFFD, not an exception from nlohmann::json (found by
  // tests/fuzz/fuzz_cli.cpp: findings/cli-crash-20f22ce302df4279a998eff65575074dcf92450a).
  CHECK(val("um\xb5", 0).error().message == "input 'x' should be real, got \"um\xef\xbf\xbd\"");
  CHECK(checkInput(f, 1, *val("11", 1)) == "input 'n' = 11 is outside its range [0, 10]");

  auto bound =
      bindJsonInputs(f, c, R"({"x": 0.25, "ys": [1, 2, 3], "extra": 5, "l": "Green"})", "d.json");
  REQUIRE(bound);
  REQUIRE(bound->size() == 5);
  CHECK((*bound)[0]->s == 0.25);
  CHECK(!(*bound)[1]);
  CHECK((*bound)[2]->a == std::vector<double>{1, 2, 3});
  CHECK((*bound)[3]->s == 1);
  CHECK(!(*bound)[4]);
  auto bad = bindJsonInputs(f, c, "{\n  \"x\": 1,\n  \"ys\": [1, 2,, 3]\n}", "d.json");
  REQUIRE(!bad);
  CHECK(bad.error().loc.file == "d.json");
  CHECK(bad.error().loc.line == 3);
  CHECK(bad.error().loc.col == 15);
  CHECK(bad.error().message.rfind("malformed JSON: syntax error", 0) == 0);
  auto wrongType = bindJsonInputs(f, c, R"({"b": 1})", "d.json");
  REQUIRE(!wrongType);
  CHECK(wrongType.error().str() == "d.json: error: input 'b' should be bool, got 1");
  CHECK(!bindJsonInputs(f, c, "[1, 2]", "d.json"));

  // An enum array as formatValue prints it reads back (found by tests/fuzz/fuzz_json.cpp:
  // findings/json-enum-array-roundtrip.json); JSON strings work as before.
  f.addInput("ls", Type::array(Type::enumeration(light), 2));
  auto ls = parseValue("[Green, Red]", f.inputs()[5].var->type(), c, "input 'ls'");
  REQUIRE(ls);
  CHECK(ls->a == std::vector<double>{1, 0});
  CHECK(formatValue(*ls, f.inputs()[5].var->type(), c) == "[Green, Red]");
  CHECK(parseValue(R"([ "Red" , "Green" ])", f.inputs()[5].var->type(), c, "input 'ls'")->a ==
        std::vector<double>{0, 1});
  CHECK(parseValue("[Green, Blue]", f.inputs()[5].var->type(), c, "input 'ls'").error().message ==
        "input 'ls[1]' should be a constant of enum Light (Red, Green), got Blue");
  CHECK(!parseValue("[Green,, Red]", f.inputs()[5].var->type(), c, "input 'ls'"));
  CHECK(!parseValue("[Green Red]", f.inputs()[5].var->type(), c, "input 'ls'"));
}
