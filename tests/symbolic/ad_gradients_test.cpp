// Reverse-mode AD (symbolic/ad.h) and the constrained-parameter transforms (symbolic/
// transforms.h) against central finite differences: the log density of every distribution
// w.r.t. its value and parameters; the transforms' constrain/unconstrain round trip and their
// log-Jacobians; whole models (every builtin, every distribution as a choice and as an observe
// with position-dependent parameters, dependent Uniform bounds, calls, loops, eight schools).
// The tape's log density is also checked against the interpreter: L(u) must equal the trace's
// logJoint at the constrained values plus the log-Jacobians. Plus: discrete choices refused with
// the documented message, control-flow changes re-record the tape, the tape is reused.
#include "tests/symbolic/compile_chs.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/ad.h"
#include "symbolic/distributions.h"
#include "symbolic/interp.h"
#include "symbolic/transforms.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <new>
#include <sstream>

// Under AddressSanitizer the allocator is the sanitizer's own: replacing operator new there mixes
// its allocations with free() (ASan reports alloc-dealloc-mismatch), so the counting replacement
// and the no-allocation check are left out of sanitizer builds.
#if defined(__SANITIZE_ADDRESS__)
#define CHASSIS_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHASSIS_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef CHASSIS_COUNT_ALLOCATIONS
#define CHASSIS_COUNT_ALLOCATIONS 1
#endif

namespace {
std::atomic<size_t> gAdAllocations{0};
}
#if CHASSIS_COUNT_ALLOCATIONS
// Counts every allocation of this test program (a conforming replacement of the global operator
// new), so a test can assert that gradient evaluations after the first allocate nothing.
// GCC 12 warns (-Wmismatched-new-delete) that free() receives operator new's pointer wherever the
// replacement delete is inlined; it is std::malloc's pointer, so the pairing is right.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  ++gAdAllocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

#endif

using namespace chassis;
using namespace chassis::symbolic;

namespace {

using AdCompiled = testing::CompiledChs;
AdCompiled adCompile(const std::string& src) { return testing::compileChs(src); }

/// |a - b| <= tol * max(1, |a|, |b|).
bool close(double a, double b, double tol) {
  return std::fabs(a - b) <= tol * std::max({1.0, std::fabs(a), std::fabs(b)});
}

/// Central difference of f at x with step h.
template <typename F> double centralDiff(F f, double x, double h) {
  return (f(x + h) - f(x - h)) / (2 * h);
}

/// Checks the tape's gradient against central differences of its own log density at `u`, and
/// its value against the interpreter's log joint plus the transforms' log-Jacobians.
void checkTapeAt(LogDensityTape& tape, const ir::Function& f, const std::vector<Value>& inputs,
                 const std::vector<double>& u) {
  size_t d = tape.dimension();
  std::vector<double> g(d), gg(d);
  auto l = tape.logDensity(u, g);
  REQUIRE(l);
  REQUIRE(std::isfinite(*l));
  for (size_t k = 0; k < d; ++k) {
    double h = 1e-5 * std::max(1.0, std::fabs(u[k]));
    auto at = [&](double x) {
      std::vector<double> v = u;
      v[k] = x;
      auto r = tape.logDensity(v, gg);
      REQUIRE(r);
      return *r;
    };
    double fd = centralDiff(at, u[k], h);
    INFO("coordinate " << k << " (" << tape.addresses()[k] << "): ad " << g[k] << " fd " << fd);
    CHECK(close(g[k], fd, 1e-6));
  }
  // The same point through the interpreter.
  auto l2 = tape.logDensity(u, g);
  REQUIRE(l2);
  std::vector<double> xs(d);
  tape.readChoices(xs);
  std::unordered_map<std::string, double> replay;
  for (size_t k = 0; k < d; ++k)
    replay[tape.addresses()[k]] = xs[k];
  RunOptions opt;
  opt.replay = &replay;
  Rng rng(1);
  auto run = symbolic::run(f, inputs, rng, opt);
  REQUIRE(run);
  double logJ = 0;
  REQUIRE(run->trace.choices.size() == d);
  for (size_t k = 0; k < d; ++k) {
    const Choice& c = run->trace.choices[k];
    CHECK(c.address == tape.addresses()[k]);
    logJ += logAbsJacobian(transformFor(c.dist, c.params), u[k]);
  }
  INFO("tape " << *l2 << " interpreter " << run->trace.logJoint() << " + " << logJ);
  CHECK(close(*l2, run->trace.logJoint() + logJ, 1e-10));
}

/// Initialises a tape on `module` and checks it at the initial point and at `points` more.
void checkModel(const std::string& src, const std::string& module, std::vector<Value> inputs = {},
                int points = 4) {
  AdCompiled c = adCompile(src);
  const ir::Function* f = c.ir.findFunction(module);
  REQUIRE(f);
  LogDensityTape tape(*f, inputs);
  Rng rng(7);
  auto u0 = tape.initialize(rng);
  INFO((u0 ? "" : u0.error().str()));
  REQUIRE(u0);
  checkTapeAt(tape, *f, inputs, *u0);
  for (int p = 0; p < points; ++p) {
    std::vector<double> u(u0->size());
    for (double& x : u)
      x = -1.5 + 3 * rng.uniform();
    checkTapeAt(tape, *f, inputs, u);
  }
}

struct DistCase {
  DistKind kind;
  std::vector<double> params;
  double x;
};

} // namespace

TEST_CASE("digamma matches known values and the derivative of lgamma", "[ad]") {
  CHECK(digamma(1.0) == Approx(-0.5772156649015329).epsilon(1e-13));
  CHECK(digamma(0.5) == Approx(-1.9635100260214235).epsilon(1e-13));
  for (double x : {0.01, 0.3, 1.7, 4.2, 11.0, 250.0}) {
    double fd = centralDiff([](double t) { return std::lgamma(t); }, x, 1e-5 * x);
    CHECK(close(digamma(x), fd, 1e-7));
  }
}

TEST_CASE("log density gradients of every distribution match finite differences", "[ad]") {
  std::vector<DistCase> cases = {
      {DistKind::Uniform, {-1.0, 2.5}, 0.3},
      {DistKind::Normal, {0.7, 1.3}, -0.4},
      {DistKind::Normal, {-3.0, 0.2}, -2.5},
      {DistKind::HalfNormal, {2.0}, 1.1},
      {DistKind::LogNormal, {0.3, 0.8}, 2.2},
      {DistKind::Cauchy, {1.0, 2.0}, -3.0},
      {DistKind::HalfCauchy, {2.5}, 4.0},
      {DistKind::StudentT, {3.5, 1.0, 2.0}, 0.2},
      {DistKind::StudentT, {0.7, -1.0, 0.5}, 3.0},
      {DistKind::Exponential, {1.7}, 0.6},
      {DistKind::Gamma, {2.3, 0.9}, 1.4},
      {DistKind::Gamma, {0.6, 3.0}, 0.2},
      {DistKind::Beta, {2.0, 3.5}, 0.35},
      {DistKind::Beta, {0.5, 0.8}, 0.9},
      // Discrete: parameters only.
      {DistKind::Bernoulli, {0.3}, 1},
      {DistKind::Bernoulli, {0.3}, 0},
      {DistKind::Binomial, {10, 0.35}, 4},
      {DistKind::Poisson, {3.2}, 5},
      {DistKind::Geometric, {0.4}, 3},
      {DistKind::Categorical, {0.2, 1.5, 0.7}, 1},
  };
  for (const DistCase& c : cases) {
    INFO(signature(c.kind).name << " at x = " << c.x);
    double dx;
    std::vector<double> dp(c.params.size());
    double lp = logDensityGradient(c.kind, c.params, c.x, dx, dp);
    CHECK(lp == logDensity(c.kind, c.params, c.x));
    REQUIRE(std::isfinite(lp));
    if (!signature(c.kind).discrete) {
      double fd = centralDiff([&](double t) { return logDensity(c.kind, c.params, t); }, c.x,
                              1e-6 * std::max(0.1, std::fabs(c.x)));
      INFO("d/dx: " << dx << " vs " << fd);
      CHECK(close(dx, fd, 1e-6));
    } else {
      CHECK(dx == 0);
    }
    for (size_t i = 0; i < c.params.size(); ++i) {
      if (c.kind == DistKind::Binomial && i == 0) {
        CHECK(dp[0] == 0); // n is an integer
        continue;
      }
      auto at = [&](double t) {
        std::vector<double> p = c.params;
        p[i] = t;
        return logDensity(c.kind, p, c.x);
      };
      double fd = centralDiff(at, c.params[i], 1e-6 * std::max(0.1, std::fabs(c.params[i])));
      INFO("d/dparam " << i << ": " << dp[i] << " vs " << fd);
      CHECK(close(dp[i], fd, 1e-6));
    }
  }
  // Outside the support: -inf and zero derivatives.
  double dx;
  std::vector<double> dp(1);
  CHECK(logDensityGradient(DistKind::Exponential, std::vector<double>{1.0}, -1.0, dx, dp) ==
        -INFINITY);
  CHECK(dx == 0);
  CHECK(dp[0] == 0);
}

TEST_CASE("transforms: round trip, derivative and log-Jacobian against finite differences",
          "[ad][transforms]") {
  std::vector<Transform> ts = {{TransformKind::Identity, 0, 0},
                               {TransformKind::LowerBound, 0, 0},
                               {TransformKind::LowerBound, -2.0, 0},
                               {TransformKind::Interval, 0, 1},
                               {TransformKind::Interval, -3.0, 5.0}};
  for (const Transform& t : ts) {
    for (double u : {-4.0, -0.7, 0.0, 0.3, 2.5}) {
      INFO("kind " << int(t.kind) << " lo " << t.lo << " hi " << t.hi << " u " << u);
      double x = constrain(t, u);
      CHECK(close(unconstrain(t, x), u, 1e-9));
      double fd = centralDiff([&](double v) { return constrain(t, v); }, u, 1e-6);
      CHECK(close(constrainDerivative(t, u), fd, 1e-7));
      CHECK(close(logAbsJacobian(t, u), std::log(std::fabs(constrainDerivative(t, u))), 1e-12));
      double fdj = centralDiff([&](double v) { return logAbsJacobian(t, v); }, u, 1e-6);
      CHECK(close(logAbsJacobianDerivative(t, u), fdj, 1e-7));
    }
  }
  // Supports pick the transform.
  CHECK(transformFor(DistKind::Normal, std::vector<double>{0, 1}).kind == TransformKind::Identity);
  CHECK(transformFor(DistKind::HalfCauchy, std::vector<double>{5}).kind ==
        TransformKind::LowerBound);
  CHECK(transformFor(DistKind::Beta, std::vector<double>{2, 2}).kind == TransformKind::Interval);
  Transform uni = transformFor(DistKind::Uniform, std::vector<double>{-1, 4});
  CHECK(uni.kind == TransformKind::Interval);
  CHECK(uni.lo == -1);
  CHECK(uni.hi == 4);
  // No cancellation far in the tails: log sigmoid(u) + log(1 - sigmoid(u)) ~ -|u|.
  CHECK(logSigmoidJacobian(40.0) == Approx(-40.0).epsilon(1e-12));
  CHECK(logSigmoidJacobian(-800.0) == Approx(-800.0).epsilon(1e-12));
}

TEST_CASE("AD of whole models: every builtin", "[ad]") {
  checkModel(R"(
module B() -> (r: real, k: int) {
    a ~ Normal(0.5, 1.0);
    b ~ HalfNormal(1.0);
    c ~ Uniform(-1.0, 2.0);
    let v = [a, b, c];
    let w = [2.0 * a, -b, c * c];
    let t1 = -a * a + a * b - c / b + exp(-b) + log(b) + sqrt(b) + sigmoid(a) + tanh(c);
    let t2 = abs(a - c) + relu(a) + relu(-c) + min(a, c) + max(b, c) + sum(v) + dot(v, w);
    let t3 = sum(exp(v)) + dot(relu(v), v) - max(a, 1.5) * 2.0;
    factor(0.1 * (t1 + t2 + t3) - a * a - c * c);
    if argmax(v) == 1 {
        factor(-0.3 * b);
    }
    r = t1 + t2;
    k = argmax(w);
}
)",
             "B");
}

TEST_CASE("AD of whole models: every continuous distribution, dependent parameters", "[ad]") {
  checkModel(R"(
module D(y: real) -> (z: real) {
    mu ~ Normal(0.0, 1.0);
    s ~ Gamma(2.0, 1.5);
    nu ~ Exponential(0.5);
    p ~ Beta(1.5, 2.5);
    w ~ StudentT(3.0, mu, s);
    c ~ Cauchy(mu, 2.0);
    h ~ HalfCauchy(s + 1.0);
    l ~ LogNormal(mu, s);
    z ~ Uniform(mu - 5.0, s + 5.0);
    observe(Normal(mu, s), y);
    observe(HalfNormal(s), 1.3);
    observe(LogNormal(mu, s), 2.0);
    observe(Cauchy(mu, s), y);
    observe(HalfCauchy(s), 0.7);
    observe(StudentT(nu + 1.0, mu, s), y);
    observe(Exponential(s), 0.4);
    observe(Gamma(s, nu + 0.5), 1.1);
    observe(Beta(s, nu + 0.5), p);
    observe(Uniform(mu - 10.0, mu + s + 10.0), 0.3);
    observe(Normal(w * c, h + l), z);
    observe(Bernoulli(p), true);
    observe(Binomial(10, p), 3);
    observe(Poisson(s), 4);
    observe(Geometric(p), 2);
    observe(Categorical([p, s, 1.0]), 1);
}
)",
             "D", {Value::scalar(0.8)});
}

TEST_CASE("AD of whole models: calls, loops, arrays and conditionals", "[ad]") {
  checkModel(R"(
module Scale(v: real, k: real) -> (out: real) {
    out = v * k + 1.0;
}
module Noise(m: real) -> (n: real) {
    n ~ Normal(m, 0.5);
}
module M(y: real[3]) -> (theta: real[3]) {
    mu ~ Normal(0.0, 2.0);
    tau ~ HalfNormal(1.0);
    var z: real[3];
    for j in 0..3 {
        z[j] ~ Normal(0.0, 1.0);
        theta[j] = Scale(z[j], tau).out + mu;
        if theta[j] > 0.5 {
            observe(Normal(theta[j], 1.0), y[j]);
        } else {
            observe(Normal(theta[j], 2.0), y[j]);
        }
    }
    let e = Noise(mu).n;
    observe(Normal(e, 1.0), 0.3);
}
)",
             "M", {Value::array({0.5, -1.0, 2.0})});
}

TEST_CASE("AD of eight schools (non-centred) matches finite differences and the interpreter",
          "[ad]") {
  std::ifstream in(std::string(CHASSIS_SOURCE_DIR) + "/examples/eight_schools.chs");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  checkModel(
      ss.str(), "EightSchools",
      {Value::array({28, 8, -3, 7, -1, 1, 18, 12}), Value::array({15, 10, 16, 11, 9, 11, 10, 18})},
      6);
}

TEST_CASE("the tape is reused; a change of control flow re-records it", "[ad]") {
  AdCompiled c = adCompile(R"(
module F() -> () {
    x ~ Normal(0.0, 1.0);
    y ~ Normal(0.0, 1.0);
    if x > 0.0 {
        factor(-x * y);
    } else {
        factor(x * y * y);
    }
}
)");
  const ir::Function* f = c.ir.findFunction("F");
  LogDensityTape tape(*f, {});
  Rng rng(3);
  REQUIRE(tape.initialize(rng));
  CHECK(tape.dimension() == 2);
  CHECK(tape.addresses() == std::vector<std::string>{"x", "y"});
  std::vector<double> g(2);
  REQUIRE(tape.logDensity(std::vector<double>{0.3, 0.7}, g));
  // Same branch: no new recording.
  size_t rec = tape.recordings();
  for (double x : {0.5, 1.0, 2.0}) {
    auto l = tape.logDensity(std::vector<double>{x, 0.7}, g);
    REQUIRE(l);
    CHECK(*l == Approx(-0.5 * x * x - 0.5 * 0.49 - std::log(2 * M_PI) - x * 0.7));
    CHECK(g[0] == Approx(-x - 0.7));
    CHECK(g[1] == Approx(-0.7 - x));
  }
  CHECK(tape.recordings() == rec);
  size_t before = tape.recordings();
  // The other branch: the guard on x > 0 fails and the tape is recorded again.
  auto l = tape.logDensity(std::vector<double>{-1.0, 0.7}, g);
  REQUIRE(l);
  CHECK(*l == Approx(-0.5 - 0.5 * 0.49 - std::log(2 * M_PI) - 0.49));
  CHECK(g[0] == Approx(1.0 + 0.49));
  CHECK(g[1] == Approx(-0.7 - 2 * 0.7));
  CHECK(tape.recordings() == before + 1);
}

TEST_CASE("AD refuses discrete choices and reports model errors with locations", "[ad]") {
  AdCompiled c = adCompile(R"(
module G() -> () {
    x ~ Normal(0.0, 1.0);
    z ~ Bernoulli(0.3);
}
module H() -> () {
    x ~ Normal(0.0, 1.0);
    assert x > 100.0;
}
module K() -> () {
    x ~ Normal(0.0, 1.0);
    condition(false);
}
)");
  Rng rng(1);
  LogDensityTape g(*c.ir.findFunction("G"), {});
  auto r = g.initialize(rng);
  REQUIRE(!r);
  CHECK(r.error().message ==
        "NUTS needs every random choice continuous; 'z' is Bernoulli: use --method mh");
  CHECK(r.error().loc.line == 4);
  LogDensityTape h(*c.ir.findFunction("H"), {});
  auto rh = h.initialize(rng);
  REQUIRE(!rh);
  CHECK(rh.error().message.find("assertion failed") == 0);
  CHECK(rh.error().loc.line == 8);
  LogDensityTape k(*c.ir.findFunction("K"), {});
  auto rk = k.initialize(rng, 2.0, 5);
  REQUIRE(!rk);
  CHECK(rk.error().message.find("no initial point") == 0);
}

TEST_CASE("outside the domain the log density is -inf (a rejection, not an error)", "[ad]") {
  AdCompiled c = adCompile(R"(
module P() -> () {
    x ~ Normal(0.0, 1.0);
    observe(Normal(0.0, x), 0.5);
}
)");
  LogDensityTape t(*c.ir.findFunction("P"), {});
  Rng rng(2);
  std::vector<double> g(1);
  // Find a start with x > 0 (initialize retries until the density is finite).
  auto u = t.initialize(rng);
  REQUIRE(u);
  CHECK((*u)[0] > 0);
  auto l = t.logDensity(std::vector<double>{-0.5}, g);
  REQUIRE(l);
  CHECK(*l == -INFINITY);
  auto l2 = t.logDensity(std::vector<double>{0.5}, g);
  REQUIRE(l2);
  CHECK(std::isfinite(*l2));
}

TEST_CASE("gradient evaluations after the first allocate nothing", "[ad]") {
  std::ifstream in(std::string(CHASSIS_SOURCE_DIR) + "/examples/eight_schools.chs");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  AdCompiled c = adCompile(ss.str());
  std::vector<Value> inputs = {Value::array({28, 8, -3, 7, -1, 1, 18, 12}),
                               Value::array({15, 10, 16, 11, 9, 11, 10, 18})};
  LogDensityTape tape(*c.ir.findFunction("EightSchools"), inputs);
  Rng rng(5);
  auto u0 = tape.initialize(rng);
  REQUIRE(u0);
  std::vector<double> u = *u0, g(u.size());
  REQUIRE(tape.logDensity(u, g));
  size_t before = gAdAllocations.load();
  double total = 0;
  for (int i = 0; i < 200; ++i) {
    for (double& x : u)
      x = -2 + 4 * rng.uniform();
    auto l = tape.logDensity(u, g);
    if (l) total += *l + g[0];
  }
  size_t after = gAdAllocations.load();
  CHECK(std::isfinite(total));
#if CHASSIS_COUNT_ALLOCATIONS
  CHECK(after == before);
#else
  (void)before, (void)after; // not measurable under AddressSanitizer (see the top of this file)
#endif
  CHECK(tape.recordings() == 1);
  // The per-element log densities are fused (ad.h): fewer nodes than the looped tape's.
  LogDensityTape looped(*c.ir.findFunction("EightSchools"), inputs, /*fuse=*/false);
  Rng rng2(5);
  REQUIRE(looped.initialize(rng2));
  CHECK(looped.tapeSize() > 30);
  CHECK(tape.tapeSize() < looped.tapeSize());
}

TEST_CASE("AD through dense layers: a network called from a model", "[ad]") {
  using namespace chassis::ir;
  Program p;
  Context& c = p.ctx();
  auto layer = [](int rows, int cols, std::vector<double> w, std::vector<double> b) {
    return std::make_shared<DenseLayer>(
        DenseLayer{rows, cols, std::make_shared<const std::vector<double>>(std::move(w)),
                   std::make_shared<const std::vector<double>>(std::move(b))});
  };
  Function& net = p.addFunction("Net", FunctionKind::Network);
  const Var* x = net.addInput("x", Type::array(Type::real(), 2));
  const Var* y = net.addOutput("y", Type::array(Type::real(), 2));
  auto l1 = layer(3, 2, {1.0, 2.0, -1.0, 1.0, 0.5, -0.3}, {0.5, 0.1, -0.2});
  auto l2 = layer(2, 3, {0.7, -1.2, 0.4, 1.1, 0.3, -0.8}, {0.0, 0.2});
  net.setBody({c.stmt<AssignStmt>(SourceLoc{}, y, c.affine(l2, c.vecRelu(c.affine(l1, x))))});
  Function& m = p.addFunction("M", FunctionKind::Module);
  const Var* a = m.addOutput("a", Type::real());
  const Var* b = m.newVar("b", Type::real(), VarRole::Random);
  Expr out = c.callResult(c.call(net, {c.arrayLit(Type::real(), {a, b})}), 0);
  Expr s = c.unary(UnOp::Sum, out);
  Expr zero = c.realConst(0.0), one = c.realConst(1.0);
  m.setBody({c.stmt<SampleStmt>(SourceLoc{}, a, DistKind::Normal, std::vector<Expr>{zero, one}, "a",
                                std::vector<Expr>{}),
             c.stmt<SampleStmt>(SourceLoc{}, b, DistKind::Normal, std::vector<Expr>{zero, one}, "b",
                                std::vector<Expr>{}),
             c.stmt<ObserveStmt>(SourceLoc{}, DistKind::Normal, std::vector<Expr>{s, one},
                                 c.realConst(0.3))});
  LogDensityTape tape(m, {});
  Rng rng(12);
  auto u0 = tape.initialize(rng);
  REQUIRE(u0);
  CHECK(tape.dimension() == 2);
  checkTapeAt(tape, m, {}, *u0);
  for (std::vector<double> u : {std::vector<double>{0.9, 0.4}, std::vector<double>{-1.3, 0.8},
                                std::vector<double>{0.2, -1.7}})
    checkTapeAt(tape, m, {}, u);
}

TEST_CASE("AD refuses trans-dimensional models and guards callees' input ranges", "[ad]") {
  AdCompiled c = adCompile(R"(
module T() -> () {
    x ~ Normal(0.0, 1.0);
    if x > 0.0 {
        y ~ Normal(0.0, 1.0);
    }
}
module Clip(v: real in [-3, 3]) -> (o: real) {
    o = v * 2.0;
}
module R() -> () {
    x ~ Normal(0.0, 1.0);
    observe(Normal(Clip(x).o, 1.0), 0.5);
}
)");
  Rng rng(8);
  LogDensityTape t(*c.ir.findFunction("T"), {});
  auto u = t.initialize(rng);
  REQUIRE(u);
  // Cross to the other side of x > 0: the set of choices changes.
  std::vector<double> other =
      t.dimension() == 2 ? std::vector<double>{-1.0, 0.0} : std::vector<double>{1.0};
  std::vector<double> g(other.size());
  auto l = t.logDensity(other, g);
  REQUIRE(!l);
  CHECK(l.error().message.find("NUTS needs a fixed set of choices") != std::string::npos);

  LogDensityTape r(*c.ir.findFunction("R"), {});
  REQUIRE(r.initialize(rng));
  std::vector<double> g1(1);
  auto inside = r.logDensity(std::vector<double>{2.5}, g1);
  REQUIRE(inside);
  CHECK(*inside == Approx(-0.5 * 2.5 * 2.5 - 0.5 * 4.5 * 4.5 - std::log(2 * M_PI)));
  CHECK(g1[0] == Approx(-2.5 - 2 * 4.5));
  auto outside = r.logDensity(std::vector<double>{5.0}, g1);
  REQUIRE(!outside);
  CHECK(outside.error().message == "input 'v' = 5 is outside its range [-3, 3] (calling 'Clip')");
  CHECK(outside.error().loc.line == 13);
}
