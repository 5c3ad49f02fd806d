// The Stan-style functions of the language (square, pow, fabs, log_sum_exp, log_mix, lpdf;
// spec/LANGUAGE.md §5.3), which lowering writes with the IR's existing operators, checked in the
// back ends that run them: the interpreter against closed forms and against the runtime's own
// densities (symbolic::logDensity, what observe uses), the LLVM JIT bit for bit against the
// interpreter (values and error kinds), and the AD tape's value and gradient of a model using
// them against the same closed forms and central finite differences.
#include "codegen/codegen.h"

#include "symbolic/ad.h"
#include "symbolic/distributions.h"
#include "symbolic/interp.h"
#include "tests/symbolic/compile_chs.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

using namespace chassis;

namespace {

const double kInf = std::numeric_limits<double>::infinity();

/// Runs `f` in the interpreter and through the JIT on scalar inputs `in`; requires the two to
/// agree bit for bit (or to fail with the same error kind). Returns the interpreter's outputs
/// (empty on failure) and its error message in `err`.
std::vector<double> runBoth(const ir::Function& f, const codegen::JitFunction& jit,
                            const std::vector<double>& in, std::string* err = nullptr) {
  std::vector<symbolic::Value> args;
  for (double v : in)
    args.push_back(symbolic::Value::scalar(v));
  Rng rng(0);
  auto ref = symbolic::run(f, args, rng);
  std::vector<double> out(jit.numOutputs() + 1, -12345.0);
  int rc = jit(in.data(), out.data());
  if (!ref) {
    INFO("interpreter: " << ref.error().str() << "; JIT: " << codegen::errorCodeName(rc));
    CHECK(rc != codegen::kOk);
    if (err) *err = ref.error().message;
    return {};
  }
  INFO("JIT returned " << codegen::errorCodeName(rc));
  REQUIRE(rc == codegen::kOk);
  std::vector<double> r;
  for (size_t k = 0; k < f.outputs().size(); ++k) {
    double w = ref->outputs[k].s;
    INFO("output " << f.outputs()[k]->name());
    CHECK(std::memcmp(&w, &out[k], sizeof(double)) == 0);
    r.push_back(w);
  }
  CHECK(out[f.outputs().size()] == -12345.0);
  return r;
}

std::unique_ptr<codegen::JitFunction> jitOf(const ir::Function& f) {
  auto j = codegen::JitFunction::create(f);
  INFO((j ? "" : j.error().str()));
  REQUIRE(j);
  return std::move(*j);
}

bool close(double got, double want, double tol = 1e-12) {
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= tol * std::max(1.0, std::fabs(want));
}

} // namespace

TEST_CASE("square, pow, fabs, log_sum_exp and log_mix: closed forms, interpreter and JIT agree",
          "[codegen][stan-functions]") {
  auto c = testing::compileChs(R"(
module Math(x: real, y: real, t: real, n: int)
    -> (sq: real, isq: int, p3: real, pm2: real, pn: real, pxy: real, fa: real, lse: real,
        lsea: real, lm: real) {
    sq = square(x);
    isq = square(n);
    p3 = pow(x, 3);
    pm2 = pow(x, -2);
    pn = pow(x, 0) + pow(2, n);
    pxy = pow(y, x);
    fa = fabs(x) + fabs(n);
    lse = log_sum_exp(x, y);
    lsea = log_sum_exp([x, y, 3.0, x + y]);
    lm = log_mix(t, x, y);
}
)");
  const ir::Function& f = *c.ir.findFunction("Math");
  auto jit = jitOf(f);
  int compared = 0;
  for (double x : {-2.5, -1.0, 0.3, 1.0, 4.0, 700.0})
    for (double y : {0.25, 1.5, 3.0, 710.0})
      for (double t : {0.01, 0.3, 0.99})
        for (double n : {-3.0, 0.0, 2.0}) {
          INFO("x=" << x << " y=" << y << " t=" << t << " n=" << n);
          std::string err;
          auto r = runBoth(f, *jit, {x, y, t, n}, &err);
          // pow(y, x) overflows for y = 710 and x = 700: the interpreter's non-finite error.
          if (r.empty()) {
            CHECK(std::isinf(std::pow(y, x)));
            continue;
          }
          CHECK(r[0] == x * x);
          CHECK(r[1] == n * n);
          CHECK(close(r[2], std::pow(x, 3)));
          CHECK(close(r[3], std::pow(x, -2)));
          CHECK(close(r[4], 1.0 + std::pow(2.0, n)));
          CHECK(close(r[5], std::pow(y, x), 1e-9)); // exp(x log y): relative error grows with x
          CHECK(r[6] == std::fabs(x) + std::fabs(n));
          // Stable: no overflow at 700 + 710, where exp alone would give inf.
          double m = std::max(x, y);
          CHECK(close(r[7], m + std::log(std::exp(x - m) + std::exp(y - m))));
          double vs[] = {x, y, 3.0, x + y};
          double ma = *std::max_element(std::begin(vs), std::end(vs)), s = 0;
          for (double v : vs)
            s += std::exp(v - ma);
          CHECK(close(r[8], ma + std::log(s)));
          double ml = std::max(x, y);
          CHECK(close(r[9], ml + std::log(t * std::exp(x - ml) + (1 - t) * std::exp(y - ml))));
          ++compared;
        }
  CHECK(compared > 150);
}

TEST_CASE("pow with a real exponent needs x > 0, log_mix needs 0 < theta < 1: errors agree",
          "[codegen][stan-functions]") {
  auto c = testing::compileChs(R"(
module P(x: real, y: real) -> (p: real) { p = pow(x, y); }
module Q(x: real) -> (p: real) { p = pow(x, -1); }
module L(t: real) -> (m: real) { m = log_mix(t, 1.0, 2.0); }
)");
  auto pf = jitOf(*c.ir.findFunction("P"));
  auto qf = jitOf(*c.ir.findFunction("Q"));
  auto lf = jitOf(*c.ir.findFunction("L"));
  std::string err;
  CHECK(runBoth(*c.ir.findFunction("P"), *pf, {-2.0, 0.5}, &err).empty());
  CHECK(err.find("log of -2") != std::string::npos);
  CHECK(runBoth(*c.ir.findFunction("P"), *pf, {0.0, 0.5}, &err).empty());
  CHECK(runBoth(*c.ir.findFunction("P"), *pf, {-2.0, 2.0}, &err).empty()); // y is not a constant
  CHECK(runBoth(*c.ir.findFunction("P"), *pf, {2.0, 0.5}).size() == 1);
  CHECK(runBoth(*c.ir.findFunction("Q"), *qf, {0.0}, &err).empty());
  CHECK(err.find("division by zero") != std::string::npos);
  CHECK(runBoth(*c.ir.findFunction("L"), *lf, {1.0}, &err).empty());
  CHECK(err.find("log of 0") != std::string::npos);
  CHECK(runBoth(*c.ir.findFunction("L"), *lf, {-0.5}, &err).empty());
  CHECK(runBoth(*c.ir.findFunction("L"), *lf, {0.5}).size() == 1);
}

TEST_CASE("lpdf of every distribution is the runtime's log density (observe's), -inf outside the "
          "support; the JIT agrees bit for bit",
          "[codegen][stan-functions]") {
  auto c = testing::compileChs(R"(
module Lp(x: real, k: int, b: bool, m: real, s: real, p: real)
    -> (normal: real, halfnormal: real, lognormal: real, cauchy: real, halfcauchy: real,
        studentt: real, exponential: real, uniform: real, gamma: real, beta: real,
        bernoulli: real, categorical: real, discreteuniform: real, geometric: real,
        poisson: real, binomial: real) {
    normal = lpdf(Normal(m, s), x);
    halfnormal = lpdf(HalfNormal(s), x);
    lognormal = lpdf(LogNormal(m, s), x);
    cauchy = lpdf(Cauchy(m, s), x);
    halfcauchy = lpdf(HalfCauchy(s), x);
    studentt = lpdf(StudentT(3.5, m, s), x);
    exponential = lpdf(Exponential(s), x);
    uniform = lpdf(Uniform(m, m + s), x);
    gamma = lpdf(Gamma(2.5, s), x);
    beta = lpdf(Beta(2, 0.5), x);
    bernoulli = lpdf(Bernoulli(p), b);
    categorical = lpdf(Categorical([p, 1.0 - p, 0.5]), k);
    discreteuniform = lpdf(DiscreteUniform(-1, 3), k);
    geometric = lpdf(Geometric(p), k);
    poisson = lpdf(Poisson(s), 4);
    binomial = lpdf(Binomial(7, p), 3);
}
)");
  const ir::Function& f = *c.ir.findFunction("Lp");
  auto jit = jitOf(f);
  using D = DistKind;
  int checked = 0, outside = 0;
  for (double x : {-1.5, 0.0, 0.3, 0.9, 1.7, 4.0})
    for (double k : {-1.0, 0.0, 2.0, 3.0, 5.0})
      for (double b : {0.0, 1.0})
        for (double m : {-0.5, 0.7})
          for (double s : {0.5, 2.0})
            for (double p : {0.2, 0.9, 1.0}) {
              INFO("x=" << x << " k=" << k << " b=" << b << " m=" << m << " s=" << s
                        << " p=" << p);
              auto r = runBoth(f, *jit, {x, k, b, m, s, p});
              REQUIRE(r.size() == 16);
              auto want = [&](D d, std::vector<double> ps, double v) {
                return symbolic::logDensity(d, ps, v);
              };
              double w[] = {want(D::Normal, {m, s}, x),
                            want(D::HalfNormal, {s}, x),
                            want(D::LogNormal, {m, s}, x),
                            want(D::Cauchy, {m, s}, x),
                            want(D::HalfCauchy, {s}, x),
                            want(D::StudentT, {3.5, m, s}, x),
                            want(D::Exponential, {s}, x),
                            want(D::Uniform, {m, m + s}, x),
                            want(D::Gamma, {2.5, s}, x),
                            want(D::Beta, {2, 0.5}, x),
                            want(D::Bernoulli, {p}, b),
                            want(D::Categorical, {p, 1 - p, 0.5}, k),
                            want(D::DiscreteUniform, {-1, 3}, k),
                            want(D::Geometric, {p}, k),
                            want(D::Poisson, {s}, 4),
                            want(D::Binomial, {7, p}, 3)};
              for (size_t i = 0; i < 16; ++i) {
                INFO("output " << f.outputs()[i]->name() << ": " << r[i] << " vs " << w[i]);
                CHECK(close(r[i], w[i], 1e-11));
                outside += std::isinf(w[i]);
                ++checked;
              }
            }
  CHECK(checked > 5000);
  CHECK(outside > 500); // the support boundaries were exercised
}

TEST_CASE("the AD tape of a model using log_mix, lpdf, log_sum_exp, pow, square and fabs: value "
          "and gradient against closed forms and finite differences",
          "[codegen][stan-functions][ad]") {
  auto c = testing::compileChs(R"(
module Mix(y: real[3]) -> (mu: real) {
    mu ~ Normal(0.0, 3.0);
    for t in 0..3 {
        factor(log_mix(0.3, lpdf(Normal(mu, 1.0), y[t]), lpdf(Normal(-mu, 2.0), y[t])));
    }
    factor(-square(mu - 1.0) / 8.0 + log_sum_exp(mu, 0.5 * mu) - pow(fabs(mu) + 1.0, 1.5));
}
)");
  const ir::Function& f = *c.ir.findFunction("Mix");
  const std::vector<double> y = {0.4, -1.2, 2.5};
  symbolic::LogDensityTape tape(f, {symbolic::Value::array(y)});
  Rng rng(7);
  auto init = tape.initialize(rng);
  INFO((init ? "" : init.error().str()));
  REQUIRE(init);
  REQUIRE(tape.dimension() == 1);
  auto closedForm = [&](double mu) {
    auto lp = [](double m, double s, double v) {
      return symbolic::logDensity(DistKind::Normal, std::vector<double>{m, s}, v);
    };
    double l = lp(0, 3, mu);
    for (double v : y)
      l += std::log(0.3 * std::exp(lp(mu, 1, v)) + 0.7 * std::exp(lp(-mu, 2, v)));
    return l - (mu - 1) * (mu - 1) / 8 + std::log(std::exp(mu) + std::exp(0.5 * mu)) -
           std::pow(std::fabs(mu) + 1, 1.5);
  };
  for (double mu : {-2.3, -0.7, 0.4, 1.1, 3.6}) {
    INFO("mu = " << mu);
    std::vector<double> u = {mu}, g(1);
    auto l = tape.logDensity(u, g);
    REQUIRE(l);
    CHECK(close(*l, closedForm(mu), 1e-10));
    const double h = 1e-6;
    double fd = (closedForm(mu + h) - closedForm(mu - h)) / (2 * h);
    CHECK(std::fabs(g[0] - fd) <= 1e-5 * std::max(1.0, std::fabs(fd)));
  }
}
