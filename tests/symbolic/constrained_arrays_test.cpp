// Constrained arrays with flat priors (Stan's simplex[K], ordered[K], positive arrays):
// `x ~ Flat(simplex)`, `x ~ Flat(ordered)`, `x ~ Flat(positive)`. NUTS samples them through
// Stan's transforms (stick-breaking, cumulative exp, log) with their log-Jacobians: the tape's log
// density equals the Jacobians written out here and its gradient matches finite differences;
// posteriors with closed forms (Dirichlet from a categorical likelihood, order statistics of
// Normals) are matched within Monte Carlo error; drawing from the prior is refused, located.
#include "tests/symbolic/compile_chs.h"
#include "tests/symbolic/nuts_draws.h"
#include "symbolic/ad.h"
#include "symbolic/diagnostics.h"
#include "symbolic/infer_nuts.h"
#include "symbolic/interp.h"
#include "symbolic/transforms.h"

#include <catch2/catch.hpp>

#include <Eigen/Dense>

#include <cmath>
#include <vector>

using namespace chassis;
using namespace chassis::symbolic;
using chassis::testing::summaryOf;

namespace {

NutsResult nutsOk(const ir::Function& f, std::vector<Value> inputs, uint64_t seed,
                  double targetAccept = 0.8) {
  NutsOptions opt;
  opt.seed = seed;
  opt.targetAccept = targetAccept;
  opt.warmup = 1000;
  opt.samples = 2000;
  auto r = runNuts(f, inputs, opt);
  INFO((r ? "" : r.error().str()));
  REQUIRE(r);
  return std::move(*r);
}

double sigmoidOf(double u) { return 1 / (1 + std::exp(-u)); }

double logNormal(double x, double m, double sd) {
  return -0.5 * ((x - m) / sd) * ((x - m) / sd) - std::log(sd) - 0.5 * std::log(2 * M_PI);
}

/// The tape's gradient at `u` against central finite differences, coordinate by coordinate.
void checkGradient(LogDensityTape& tape, const std::vector<double>& u) {
  std::vector<double> g(u.size());
  auto lp = tape.logDensity(u, g);
  REQUIRE(lp);
  REQUIRE(std::isfinite(*lp));
  for (size_t k = 0; k < u.size(); ++k) {
    const double h = 1e-6;
    std::vector<double> up = u, dn = u;
    up[k] += h;
    dn[k] -= h;
    auto a = tape.logDensity(up), b = tape.logDensity(dn);
    REQUIRE(a);
    REQUIRE(b);
    const double fd = (*a - *b) / (2 * h);
    INFO("coordinate " << k << " of " << u.size() << ": tape " << g[k] << ", finite difference "
                       << fd);
    CHECK(std::fabs(g[k] - fd) <= 1e-5 * (1 + std::fabs(fd)));
  }
}

} // namespace

TEST_CASE("constrained arrays: simplex log density is the stick-breaking Jacobian",
          "[constrained][ad]") {
  // theta ~ Flat(simplex) on 4 elements, 3 unconstrained coordinates, and an observation that
  // uses every element (the last is 1 minus the others).
  auto c = testing::compileChs(R"(
module M() -> () {
    var theta: real[4];
    theta ~ Flat(simplex);
    observe(Normal(theta[0] + 2.0 * theta[1] - theta[3], 0.5), 0.4);
}
)");
  LogDensityTape tape(*c.ir.findFunction("M"), {});
  Rng rng(1);
  REQUIRE(tape.initialize(rng));
  REQUIRE(tape.dimension() == 3);
  for (std::vector<double> u : {std::vector<double>{0.3, -0.4, 0.2},
                                std::vector<double>{-1.1, 0.9, -2.0}, std::vector<double>{2, 2, 2}})
    checkGradient(tape, u);
  // Stick-breaking by hand, with Stan's centring offset: x[k] = rest_k s_k where
  // s_k = sigmoid(u[k] - log(K - 1 - k)), log|J| = sum log(rest_k s_k (1 - s_k)).
  const std::vector<double> u = {0.3, -0.4, 0.2};
  double rest = 1, logJ = 0;
  std::vector<double> x;
  for (size_t k = 0; k < u.size(); ++k) {
    const double s = sigmoidOf(u[k] - std::log(double(u.size() - k)));
    x.push_back(rest * s);
    logJ += std::log(rest) + std::log(s) + std::log(1 - s);
    rest -= x.back();
  }
  x.push_back(rest);
  auto lp = tape.logDensity(u);
  REQUIRE(lp);
  CHECK(*lp == Approx(logJ + logNormal(0.4, x[0] + 2 * x[1] - x[3], 0.5)).epsilon(1e-12));
}

TEST_CASE("constrained arrays: the simplex transform round-trips, its log-Jacobian matches "
          "finite differences, and zero is the uniform simplex",
          "[constrained][ad]") {
  for (size_t K : {2u, 3u, 5u, 8u}) {
    INFO("K = " << K);
    // u = 0: Stan's centring offset makes every element 1/K.
    const std::vector<double> zero(K - 1, 0.0);
    for (double xk : simplexConstrain(zero))
      CHECK(xk == Approx(1.0 / double(K)).epsilon(1e-14));
    Rng rng(K);
    for (int trial = 0; trial < 5; ++trial) {
      std::vector<double> u(K - 1);
      for (double& uk : u)
        uk = -2 + 4 * rng.uniform();
      const std::vector<double> x = simplexConstrain(u);
      REQUIRE(x.size() == K);
      double sum = 0;
      for (double xk : x) {
        CHECK(xk > 0);
        sum += xk;
      }
      CHECK(sum == Approx(1.0).epsilon(1e-14));
      const std::vector<double> back = simplexUnconstrain(x);
      REQUIRE(back.size() == K - 1);
      for (size_t k = 0; k + 1 < K; ++k)
        CHECK(back[k] == Approx(u[k]).margin(1e-9));
      // log |det dx/du| over x_0 .. x_{K-2}, the Jacobian by central differences (full matrix:
      // the test does not assume it is triangular).
      Eigen::MatrixXd J(K - 1, K - 1);
      const double h = 1e-6;
      for (size_t j = 0; j + 1 < K; ++j) {
        std::vector<double> up = u, dn = u;
        up[j] += h;
        dn[j] -= h;
        const std::vector<double> xu = simplexConstrain(up), xd = simplexConstrain(dn);
        for (size_t i = 0; i + 1 < K; ++i)
          J(Eigen::Index(i), Eigen::Index(j)) = (xu[i] - xd[i]) / (2 * h);
      }
      CHECK(simplexLogAbsJacobian(u) ==
            Approx(std::log(std::fabs(J.determinant()))).margin(1e-6));
    }
  }
  // The sampler's tape is that transform: at u = 0 it reads the uniform simplex, at any u the
  // values simplexConstrain gives, and its log density is the log-Jacobian (the prior is flat).
  auto c = testing::compileChs(R"(
module M() -> (theta: real[4]) {
    theta ~ Flat(simplex);
}
)");
  LogDensityTape tape(*c.ir.findFunction("M"), {});
  Rng rng(5);
  REQUIRE(tape.initialize(rng));
  REQUIRE(tape.dimension() == 3);
  std::vector<double> choices(3), outputs(4);
  for (std::vector<double> u : {std::vector<double>{0, 0, 0}, std::vector<double>{0.7, -1.3, 0.4}}) {
    auto lp = tape.logDensity(u);
    REQUIRE(lp);
    CHECK(*lp == Approx(simplexLogAbsJacobian(u)).epsilon(1e-12));
    tape.readOutputs(outputs);
    const std::vector<double> x = simplexConstrain(u);
    for (size_t k = 0; k < 4; ++k)
      CHECK(outputs[k] == Approx(x[k]).epsilon(1e-12));
    tape.readChoices(choices);
    const std::vector<double> back = simplexUnconstrain(outputs);
    for (size_t k = 0; k < 3; ++k) {
      CHECK(choices[k] == Approx(x[k]).epsilon(1e-12));
      CHECK(back[k] == Approx(u[k]).margin(1e-9));
    }
  }
  // Back at u = 0 (after another point): the uniform simplex.
  REQUIRE(tape.logDensity(std::vector<double>{0, 0, 0}));
  tape.readOutputs(outputs);
  for (double xk : outputs)
    CHECK(xk == Approx(0.25).epsilon(1e-14));
}

TEST_CASE("constrained arrays: ordered log density is the cumulative-exp Jacobian",
          "[constrained][ad]") {
  auto c = testing::compileChs(R"(
module M() -> () {
    var cut: real[3];
    cut ~ Flat(ordered);
    pos ~ Normal(0.0, 1.0);
    var s: real[2];
    s ~ Flat(positive);
    observe(Normal(cut[0] + cut[1] * cut[2] + s[0] * pos - s[1], 1.5), 0.2);
}
)");
  LogDensityTape tape(*c.ir.findFunction("M"), {});
  Rng rng(2);
  REQUIRE(tape.initialize(rng));
  REQUIRE(tape.dimension() == 6);
  for (std::vector<double> u : {std::vector<double>{0.3, -0.4, 0.2, 0.5, -0.3, 0.1},
                                std::vector<double>{-1.1, 0.9, -2.0, -0.2, 1.2, -0.8}})
    checkGradient(tape, u);
  // x[0] = u0, x[k] = x[k-1] + exp(u[k]) with log|J| = u1 + u2; s[k] = exp(u) with log|J| = u.
  const std::vector<double> u = {0.3, -0.4, 0.2, 0.5, -0.3, 0.1};
  const double x0 = u[0], x1 = x0 + std::exp(u[1]), x2 = x1 + std::exp(u[2]);
  const double pos = u[3], s0 = std::exp(u[4]), s1 = std::exp(u[5]);
  const double expected = (u[1] + u[2]) + logNormal(pos, 0, 1) + (u[4] + u[5]) +
                          logNormal(0.2, x0 + x1 * x2 + s0 * pos - s1, 1.5);
  auto lp = tape.logDensity(u);
  REQUIRE(lp);
  CHECK(*lp == Approx(expected).epsilon(1e-12));
}

TEST_CASE("constrained arrays: a simplex with categorical observations is the Dirichlet "
          "posterior",
          "[constrained][nuts]") {
  // A flat prior on the simplex is Dirichlet(1, 1, 1); with counts (5, 3, 2) the posterior is
  // Dirichlet(6, 4, 3): means a_k / 13, variances a_k (13 - a_k) / (13^2 * 14).
  auto c = testing::compileChs(R"(
module Dirichlet(y: int[10]) -> (p: real[3]) {
    var theta: real[3];
    theta ~ Flat(simplex);
    for i in 0..10 {
        observe(Categorical(theta), y[i]);
    }
    p = theta;
}
)");
  NutsResult r = nutsOk(*c.ir.findFunction("Dirichlet"),
                        {Value::array({0, 0, 0, 0, 0, 1, 1, 1, 2, 2})}, 11);
  CHECK(r.divergences == 0);
  const double a[3] = {6, 4, 3};
  for (int k = 0; k < 3; ++k) {
    DrawSummary s = summaryOf(r, "p[" + std::to_string(k) + "]");
    const double mean = a[k] / 13, sd = std::sqrt(a[k] * (13 - a[k]) / (13.0 * 13 * 14));
    INFO("p[" << k << "]: mean " << s.mean << " (mcse " << s.mcseMean << ") vs " << mean
              << "; sd " << s.sd << " vs " << sd);
    CHECK(std::fabs(s.mean - mean) <= 4 * s.mcseMean);
    CHECK(std::fabs(s.sd - sd) <= 0.1 * sd);
    CHECK(s.rhat < 1.01);
  }
}

TEST_CASE("constrained arrays: an ordered array of three Normal means gives their order "
          "statistics",
          "[constrained][nuts]") {
  // c flat on c0 <= c1 <= c2 with observations Normal(c_k, 1) at 0: the posterior is the law of
  // the order statistics of three independent N(0, 1), whose means are -3 / (2 sqrt(pi)), 0 and
  // 3 / (2 sqrt(pi)).
  auto c = testing::compileChs(R"(
module Ord() -> () {
    var c: real[3];
    c ~ Flat(ordered);
    for i in 0..3 {
        observe(Normal(c[i], 1.0), 0.0);
    }
}
)");
  // The gaps' log scale makes a funnel where two means are close; as in Stan, a higher target
  // acceptance (adapt_delta 0.95) removes the divergences it causes at 0.8.
  NutsResult r = nutsOk(*c.ir.findFunction("Ord"), {}, 5, 0.95);
  CHECK(r.divergences == 0);
  const double m = 3 / (2 * std::sqrt(M_PI));
  const double means[3] = {-m, 0, m};
  for (int k = 0; k < 3; ++k) {
    DrawSummary s = summaryOf(r, "c[" + std::to_string(k) + "]");
    INFO("c[" << k << "]: mean " << s.mean << " (mcse " << s.mcseMean << ") vs " << means[k]);
    CHECK(std::fabs(s.mean - means[k]) <= 4 * s.mcseMean);
    CHECK(s.rhat < 1.01);
  }
  // Every draw is ordered.
  const int q0 = r.find("c[0]"), q1 = r.find("c[1]"), q2 = r.find("c[2]");
  REQUIRE(q0 >= 0);
  REQUIRE(q1 >= 0);
  REQUIRE(q2 >= 0);
  auto c0 = r.chainsOf(size_t(q0)), c1 = r.chainsOf(size_t(q1)), c2 = r.chainsOf(size_t(q2));
  size_t unordered = 0;
  for (size_t ch = 0; ch < c0.size(); ++ch)
    for (size_t i = 0; i < c0[ch].size(); ++i)
      unordered += !(c0[ch][i] <= c1[ch][i] && c1[ch][i] <= c2[ch][i]);
  CHECK(unordered == 0);
}

TEST_CASE("constrained arrays: drawing from the flat prior is refused with a located error",
          "[constrained][interp]") {
  auto c = testing::compileChs(R"(module M() -> (y: real) {
    var theta: real[3];
    theta ~ Flat(simplex);
    y = theta[0];
}
)");
  Rng rng(1);
  auto r = symbolic::run(*c.ir.findFunction("M"), {}, rng);
  REQUIRE(!r);
  CHECK(r.error().str().rfind("t.chs:3:5: error: 'theta' has a flat prior", 0) == 0);
}
