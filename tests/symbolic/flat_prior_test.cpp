// Flat priors (Stan's constrained parameters: Flat(lower = a), Flat(upper = b),
// Flat(lower = a, upper = b), Flat()): NUTS samples them through the log / logit transforms with
// their Jacobians and matches posteriors computed here by numerical integration; the literal
// Uniform translation of a bound that depends on another parameter gives a different posterior;
// the tape's gradient through bound-dependent transforms matches finite differences; the
// back ends that draw from the prior refuse a flat prior with a located error.
#include "tests/symbolic/compile_chs.h"
#include "tests/symbolic/nuts_draws.h"
#include "symbolic/ad.h"
#include "symbolic/diagnostics.h"
#include "symbolic/infer_nuts.h"
#include "symbolic/interp.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

using namespace chassis;
using namespace chassis::symbolic;
using chassis::testing::summaryOf;

namespace {

NutsResult nutsOk(const ir::Function& f, std::vector<Value> inputs, uint64_t seed) {
  NutsOptions opt;
  opt.seed = seed;
  opt.warmup = 1000;
  opt.samples = 2000;
  auto r = runNuts(f, inputs, opt);
  INFO((r ? "" : r.error().str()));
  REQUIRE(r);
  return std::move(*r);
}

/// The integral of f over [a, b] by composite Simpson with n (even) intervals.
double simpson(const std::function<double(double)>& f, double a, double b, int n) {
  const double h = (b - a) / n;
  double s = f(a) + f(b);
  for (int k = 1; k < n; ++k)
    s += f(a + k * h) * (k % 2 ? 4 : 2);
  return s * h / 3;
}

} // namespace

TEST_CASE("flat prior: half-flat sigma of a Normal likelihood matches numerical integration",
          "[flat][nuts]") {
  // p(sigma | y) ∝ sigma^-n exp(-S / (2 sigma^2)) on sigma > 0 (S = Σ y²): proper for n >= 2.
  auto c = testing::compileChs(R"(
module Scale(y: real[6]) -> () {
    sigma ~ Flat(lower = 0.0);
    for i in 0..6 {
        observe(Normal(0.0, sigma), y[i]);
    }
}
)");
  const std::vector<double> y = {1.2, -0.7, 2.1, 0.3, -1.6, 0.9};
  double S = 0;
  for (double v : y)
    S += v * v;
  const double n = double(y.size());
  auto logPost = [&](double s) { return -n * std::log(s) - S / (2 * s * s); };
  // The mode is sqrt(S / n); the density is negligible below 0.05 and above 60.
  const double mode = std::sqrt(S / n), lpMode = logPost(mode);
  auto dens = [&](double s) { return s <= 0 ? 0.0 : std::exp(logPost(s) - lpMode); };
  const double Z = simpson(dens, 1e-9, 60.0, 200000);
  const double mean = simpson([&](double s) { return s * dens(s); }, 1e-9, 60.0, 200000) / Z;
  const double m2 = simpson([&](double s) { return s * s * dens(s); }, 1e-9, 60.0, 200000) / Z;
  const double sd = std::sqrt(m2 - mean * mean);

  NutsResult r = nutsOk(*c.ir.findFunction("Scale"), {Value::array(y)}, 7);
  DrawSummary s = summaryOf(r, "sigma");
  INFO("sigma: mean " << s.mean << " (mcse " << s.mcseMean << ") vs " << mean << "; sd " << s.sd
                      << " vs " << sd);
  CHECK(std::fabs(s.mean - mean) <= 4 * s.mcseMean);
  CHECK(std::fabs(s.sd - sd) <= 0.1 * sd);
  CHECK(s.rhat < 1.01);
  CHECK(r.divergences == 0);
}

TEST_CASE("flat prior: Flat(lower = 0, upper = 1 - a) is not Uniform(0, 1 - a)", "[flat][nuts]") {
  // With a ~ Uniform(0, 1) and b flat on (0, 1 - a), the joint density is 1 on the triangle, so
  // a's marginal is 2 (1 - a): mean 1/3. The literal translation b ~ Uniform(0, 1 - a) adds the
  // density 1 / (1 - a), which cancels the triangle's width: a stays Uniform(0, 1), mean 1/2.
  auto c = testing::compileChs(R"(
module Stan() -> () {
    a ~ Uniform(0.0, 1.0);
    b ~ Flat(lower = 0.0, upper = 1.0 - a);
}
module Literal() -> () {
    a ~ Uniform(0.0, 1.0);
    b ~ Uniform(0.0, 1.0 - a);
}
)");
  NutsResult stan = nutsOk(*c.ir.findFunction("Stan"), {}, 3);
  NutsResult literal = nutsOk(*c.ir.findFunction("Literal"), {}, 3);
  DrawSummary sa = summaryOf(stan, "a"), la = summaryOf(literal, "a");
  DrawSummary sb = summaryOf(stan, "b");
  INFO("flat: a mean " << sa.mean << " (mcse " << sa.mcseMean << "), b mean " << sb.mean
                       << "; Uniform: a mean " << la.mean << " (mcse " << la.mcseMean << ")");
  CHECK(std::fabs(sa.mean - 1.0 / 3) <= 4 * sa.mcseMean);
  CHECK(std::fabs(sb.mean - 1.0 / 3) <= 4 * sb.mcseMean); // b's marginal is 2 (1 - b) too
  CHECK(std::fabs(la.mean - 0.5) <= 4 * la.mcseMean);
  CHECK(std::fabs(sa.mean - la.mean) > 0.1);
}

TEST_CASE("flat prior: an upper bound, and an unbounded flat prior", "[flat][nuts]") {
  // x flat below u = 1 with one observation Normal(x, 1) at 0.5: the posterior is a Normal(0.5, 1)
  // truncated above at 1. z flat on R with an observation at 2: Normal(2, 1).
  auto c = testing::compileChs(R"(
module Trunc() -> () {
    x ~ Flat(upper = 1.0);
    observe(Normal(x, 1.0), 0.5);
    z ~ Flat();
    observe(Normal(z, 1.0), 2.0);
}
)");
  const double phi1 = 0.5 * std::erfc(-0.5 / std::sqrt(2.0)); // P(X <= 1), X ~ N(0.5, 1)
  const double dens1 = std::exp(-0.125) / std::sqrt(2 * M_PI); // its density at 1
  const double truncMean = 0.5 - dens1 / phi1;
  NutsResult r = nutsOk(*c.ir.findFunction("Trunc"), {}, 5);
  DrawSummary sx = summaryOf(r, "x"), sz = summaryOf(r, "z");
  INFO("x mean " << sx.mean << " vs " << truncMean << "; z mean " << sz.mean);
  CHECK(std::fabs(sx.mean - truncMean) <= 4 * sx.mcseMean);
  CHECK(sx.q95 <= 1.0);
  CHECK(std::fabs(sz.mean - 2.0) <= 4 * sz.mcseMean);
}

TEST_CASE("flat prior: the tape's gradient through bound-dependent transforms",
          "[flat][ad]") {
  auto c = testing::compileChs(R"(
module M() -> () {
    a ~ Normal(0.0, 1.0);
    lo ~ Flat(lower = a);
    hi ~ Flat(upper = 2.0 * a);
    mid ~ Flat(lower = a - 1.0, upper = lo + 1.0);
    observe(Normal(lo + hi + mid, 2.0), 0.3);
}
)");
  LogDensityTape tape(*c.ir.findFunction("M"), {});
  Rng rng(1);
  auto init = tape.initialize(rng);
  REQUIRE(init);
  for (std::vector<double> u : {std::vector<double>{0.3, -0.4, 0.2, 0.7},
                                std::vector<double>{-1.1, 0.9, -0.5, -2.0}}) {
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
      INFO("coordinate " << k << ": tape " << g[k] << ", finite difference " << fd);
      CHECK(std::fabs(g[k] - fd) <= 1e-5 * (1 + std::fabs(fd)));
    }
  }
  // The log density is the Jacobians' sum plus the Normal terms: check one value exactly.
  std::vector<double> u = {0.3, -0.4, 0.2, 0.7};
  auto lp = tape.logDensity(u);
  REQUIRE(lp);
  const double a = 0.3, lo = a + std::exp(-0.4), hi = 2 * a - std::exp(0.2);
  const double l = a - 1, w = (lo + 1) - l, s = 1 / (1 + std::exp(-0.7)), mid = l + w * s;
  const double logNorm = [](double x, double m, double sd) {
    return -0.5 * ((x - m) / sd) * ((x - m) / sd) - std::log(sd) - 0.5 * std::log(2 * M_PI);
  }(0.3, lo + hi + mid, 2.0);
  const double expected = (-0.5 * a * a - 0.5 * std::log(2 * M_PI)) + (-0.4) + 0.2 +
                          (std::log(w) + std::log(s) + std::log(1 - s)) + logNorm;
  CHECK(*lp == Approx(expected).epsilon(1e-12));
}

TEST_CASE("flat prior: drawing from it is refused with a located error", "[flat][interp]") {
  auto c = testing::compileChs(R"(module M() -> (y: real) {
    sigma ~ Flat(lower = 0.0);
    y = sigma;
}
)");
  Rng rng(1);
  auto r = symbolic::run(*c.ir.findFunction("M"), {}, rng);
  REQUIRE(!r);
  CHECK(r.error().str() ==
        "t.chs:2:5: error: 'sigma' has a flat prior, Flat(lower = ...), which nothing can be drawn "
        "from (its density 1 is improper, or unnormalised with both bounds): only NUTS samples it "
        "(chassis infer --method nuts)");
}
