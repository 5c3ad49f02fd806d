// Sampling tests: for each distribution at two or three parameter settings, including extreme
// ones (tiny-shape Gamma, large-n Binomial, large-rate Poisson), 200k draws have sample mean and
// variance within 5 standard errors of the true ones (the variance's standard error estimated as
// sqrt((m4 - s^4) / N) from the sample's fourth central moment); every draw lies in the support
// with a finite log density. Cauchy-type laws (no moments) are checked at quantiles instead, and
// the exact discrete samplers (inversion, BTRS, PTRS) by a chi-square goodness-of-fit test.
#include "symbolic/distributions.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <vector>

using chassis::DistKind;
using chassis::Rng;
using namespace chassis::symbolic;

namespace {
constexpr int kN = 200000;

struct Case {
  DistKind k;
  std::vector<double> p;
};

void checkMoments(const Case& c, uint64_t seed) {
  INFO(chassis::signature(c.k).name << "(" << c.p[0] << (c.p.size() > 1 ? ", " : "")
                                    << (c.p.size() > 1 ? c.p[1] : 0.0) << ")");
  REQUIRE(!validateParams(c.k, c.p));
  Rng rng(seed);
  std::vector<double> xs(kN);
  const Support s = support(c.k, c.p);
  bool allIn = true;
  for (double& x : xs) {
    x = sample(c.k, c.p, rng);
    if (!(x >= s.lo && x <= s.hi) || !std::isfinite(logDensity(c.k, c.p, x))) allIn = false;
  }
  CHECK(allIn);
  const double mu = *mean(c.k, c.p), var = *variance(c.k, c.p);
  double m = 0;
  for (double x : xs)
    m += x;
  m /= kN;
  double s2 = 0, m4 = 0;
  for (double x : xs) {
    const double d = (x - m) * (x - m);
    s2 += d;
    m4 += d * d;
  }
  s2 /= kN - 1;
  m4 /= kN;
  CHECK(std::abs(m - mu) < 5 * std::sqrt(var / kN));
  CHECK(std::abs(s2 - var) < 5 * std::sqrt(std::max(m4 - s2 * s2, 0.0) / kN) + 1e-300);
}

// Fraction of draws <= q against the true probability `prob`, within 5 binomial standard errors.
void checkQuantile(const Case& c, double q, double prob, uint64_t seed) {
  INFO(chassis::signature(c.k).name << " P(X <= " << q << ")");
  Rng rng(seed);
  int below = 0;
  for (int i = 0; i < kN; ++i)
    below += sample(c.k, c.p, rng) <= q;
  CHECK(std::abs(double(below) / kN - prob) < 5 * std::sqrt(prob * (1 - prob) / kN));
}

// Pearson chi-square over the support, bins with expected count < 20 lumped into their
// neighbour; the statistic must be below df + 5 sqrt(2 df).
void checkChiSquare(const Case& c, uint64_t seed) {
  INFO(chassis::signature(c.k).name << "(" << c.p[0] << ", ...) chi-square");
  Rng rng(seed);
  std::map<long, int> counts;
  for (int i = 0; i < kN; ++i)
    counts[static_cast<long>(sample(c.k, c.p, rng))]++;
  const double mu = *mean(c.k, c.p), sd = std::sqrt(*variance(c.k, c.p));
  const long slo = long(support(c.k, c.p).lo);
  const long lo = std::max<long>(slo, long(mu - 12 * sd - 5)), hi = long(mu + 12 * sd + 50);
  std::vector<double> expected, observed;
  double e = 0, o = 0, below = 0;
  for (long x = slo; x < lo; ++x)
    below += std::exp(logDensity(c.k, c.p, double(x)));
  e = below * kN;
  for (auto& [x, n] : counts)
    if (x < lo) o += n;
  for (long x = lo; x <= hi; ++x) {
    e += kN * std::exp(logDensity(c.k, c.p, double(x)));
    o += counts.count(x) ? counts[x] : 0;
    if (e >= 20) {
      expected.push_back(e);
      observed.push_back(o);
      e = o = 0;
    }
  }
  for (auto& [x, n] : counts)
    if (x > hi) o += n;
  expected.back() += e; // the remaining tail mass joins the last bin
  observed.back() += o;
  double chi2 = 0;
  for (size_t i = 0; i < expected.size(); ++i)
    chi2 += (observed[i] - expected[i]) * (observed[i] - expected[i]) / expected[i];
  const double df = double(expected.size()) - 1;
  REQUIRE(df >= 1);
  CHECK(chi2 < df + 5 * std::sqrt(2 * df));
}
} // namespace

TEST_CASE("dist: sample moments match, discrete kinds", "[dist][sampling]") {
  const std::vector<Case> cases = {
      {DistKind::Bernoulli, {0.3}},
      {DistKind::Bernoulli, {0.001}},
      {DistKind::Bernoulli, {0.999}},
      {DistKind::Categorical, {1, 2, 3, 4}},
      {DistKind::Categorical, {0.01, 0, 100, 1}},
      {DistKind::Binomial, {20, 0.3}},
      {DistKind::Binomial, {100, 0.4}},
      {DistKind::Binomial, {1e6, 0.3}},
      {DistKind::Binomial, {1e9, 0.999}},
      {DistKind::Binomial, {1e7, 1e-7}},
      {DistKind::Poisson, {0.01}},
      {DistKind::Poisson, {4.2}},
      {DistKind::Poisson, {50}},
      {DistKind::Poisson, {1e6}},
      {DistKind::DiscreteUniform, {-5, 7}},
      {DistKind::DiscreteUniform, {0, 1e12}},
      {DistKind::Geometric, {0.5}},
      {DistKind::Geometric, {0.01}},
      {DistKind::Geometric, {0.999}},
  };
  uint64_t seed = 1;
  for (const Case& c : cases)
    checkMoments(c, seed++);
}

TEST_CASE("dist: sample moments match, continuous kinds", "[dist][sampling]") {
  const std::vector<Case> cases = {
      {DistKind::Uniform, {-2, 5}},      {DistKind::Uniform, {1e6, 1e6 + 1}},
      {DistKind::Normal, {3, 0.5}},      {DistKind::Normal, {-100, 20}},
      {DistKind::HalfNormal, {2}},       {DistKind::HalfNormal, {1e-3}},
      {DistKind::LogNormal, {0.5, 0.5}}, {DistKind::LogNormal, {-3, 0.2}},
      {DistKind::StudentT, {5, 2, 3}},   {DistKind::StudentT, {30, 0, 1}},
      {DistKind::Exponential, {0.2}},    {DistKind::Exponential, {50}},
      {DistKind::Gamma, {0.05, 1}},      {DistKind::Gamma, {0.5, 2}},
      {DistKind::Gamma, {3, 1.5}},       {DistKind::Gamma, {1000, 10}},
      {DistKind::Beta, {0.1, 0.1}},      {DistKind::Beta, {2.5, 0.7}},
      {DistKind::Beta, {40, 60}},
  };
  uint64_t seed = 100;
  for (const Case& c : cases)
    checkMoments(c, seed++);
}

TEST_CASE("dist: heavy-tailed kinds at their quantiles", "[dist][sampling]") {
  checkQuantile({DistKind::Cauchy, {1, 2}}, 1, 0.5, 7);
  checkQuantile({DistKind::Cauchy, {1, 2}}, 3, 0.75, 8);
  checkQuantile({DistKind::HalfCauchy, {0.5}}, 0.5, 0.5, 9);
  checkQuantile({DistKind::HalfCauchy, {0.5}}, 0.5 * std::tan(0.45 * M_PI), 0.9, 10);
  checkQuantile({DistKind::StudentT, {1.5, 2, 3}}, 2, 0.5, 11);
  // StudentT(nu = 1) is the Cauchy: P(T <= 1) = 3/4.
  checkQuantile({DistKind::StudentT, {1, 0, 1}}, 1, 0.75, 12);
  // Gamma(0.05) puts most of its mass near 0: P(X <= 1e-10) = P(0.05, 1e-10) ~ 0.3166.
  // The regularised lower incomplete gamma at tiny x is x^a / (a Gamma(a)) (1 - a x/(a+1) ...).
  const double a = 0.05, x = 1e-10;
  checkQuantile({DistKind::Gamma, {a, 1}}, x, std::pow(x, a) / std::tgamma(a + 1), 13);
}

TEST_CASE("dist: exact discrete samplers pass chi-square", "[dist][sampling]") {
  checkChiSquare({DistKind::Binomial, {30, 0.2}}, 21);  // inversion
  checkChiSquare({DistKind::Binomial, {100, 0.4}}, 22); // BTRS
  checkChiSquare({DistKind::Binomial, {500, 0.9}}, 23); // BTRS on the flipped side
  checkChiSquare({DistKind::Poisson, {3}}, 24);         // inversion
  checkChiSquare({DistKind::Poisson, {50}}, 25);        // PTRS
  checkChiSquare({DistKind::Poisson, {5000}}, 26);      // PTRS
  checkChiSquare({DistKind::Geometric, {0.3}}, 27);
  checkChiSquare({DistKind::DiscreteUniform, {-3, 9}}, 28);
  checkChiSquare({DistKind::Categorical, {0.1, 0.5, 0, 2, 0.4}}, 29);
}

TEST_CASE("dist: same seed gives the same draws", "[dist][sampling]") {
  for (int k = 0; k < static_cast<int>(chassis::kDistSignatures.size()); ++k) {
    const auto kind = static_cast<DistKind>(k);
    if (chassis::isFlat(kind)) continue; // nothing to draw (flat_prior_test.cpp)
    std::vector<double> p;
    switch (kind) {
    case DistKind::Categorical:
      p = {1, 2, 3};
      break;
    case DistKind::Binomial:
      p = {50, 0.3};
      break;
    case DistKind::DiscreteUniform:
      p = {0, 9};
      break;
    case DistKind::Uniform:
      p = {0, 1};
      break;
    case DistKind::StudentT:
      p = {3, 0, 1};
      break;
    case DistKind::Bernoulli:
    case DistKind::Geometric:
      p = {0.4};
      break;
    default:
      p.assign(chassis::signature(kind).nparams, 1.5);
    }
    REQUIRE(!validateParams(kind, p));
    Rng a(77), b(77);
    for (int i = 0; i < 100; ++i)
      REQUIRE(sample(kind, p, a) == sample(kind, p, b));
  }
}

TEST_CASE("dist: extreme parameters give finite draws inside the support", "[dist][sampling]") {
  const std::vector<Case> cases = {
      {DistKind::StudentT, {0.01, 0, 1}}, {DistKind::LogNormal, {700, 5}},
      {DistKind::Gamma, {1e-3, 1}},       {DistKind::Gamma, {0.5, 1e-300}},
      {DistKind::Beta, {1e-3, 1e-3}},     {DistKind::Exponential, {1e-308}},
      {DistKind::Cauchy, {0, 1e300}},     {DistKind::Normal, {0, 1e308}},
      {DistKind::Geometric, {1e-300}},    {DistKind::Poisson, {1e-300}},
      {DistKind::Binomial, {9e15, 0.5}},  {DistKind::Poisson, {1e12}},
  };
  Rng rng(5);
  for (const Case& c : cases) {
    INFO(chassis::signature(c.k).name << "(" << c.p[0] << ", ...)");
    REQUIRE(!validateParams(c.k, c.p));
    const Support s = support(c.k, c.p);
    int ok = 0;
    for (int i = 0; i < 2000; ++i) {
      const double x = sample(c.k, c.p, rng);
      ok += std::isfinite(x) && x >= s.lo && x <= s.hi;
    }
    CHECK(ok == 2000);
  }
  using V = std::vector<double>;
  CHECK(validateParams(DistKind::Uniform, V{-1e308, 1e308}).value_or("") ==
        "Uniform: hi - lo must be finite, got lo = -1e+308, hi = 1e+308");
}
