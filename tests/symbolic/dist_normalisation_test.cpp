// Every discrete pmf sums to 1 over its support (to 1e-12) and every continuous density
// integrates to 1 (to 1e-6), at ordinary and extreme parameters. Integrals use double-exponential
// quadrature (tanh-sinh on [lo, hi], exp-sinh on [0, inf), sinh-sinh on R), which copes with the
// integrable endpoint singularities of Gamma(shape < 1) and Beta(a < 1).
#include "symbolic/distributions.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>
#include <vector>

using chassis::DistKind;
using namespace chassis::symbolic;

namespace {

double pmfSum(DistKind k, const std::vector<double>& p) {
  const Support s = support(k, p);
  double sum = 0, comp = 0; // Kahan summation
  const double hi = std::isinf(s.hi) ? 1e7 : s.hi;
  for (double x = s.lo; x <= hi; x += 1) {
    const double term = std::exp(logDensity(k, p, x));
    if (std::isinf(s.hi) && x > *mean(k, p) + 10 && term < 1e-300) break;
    const double y = term - comp;
    const double t = sum + y;
    comp = (t - sum) - y;
    sum = t;
  }
  return sum;
}

// Double-exponential quadrature of the density over its support with step h on t in [-T, T].
double densityIntegral(DistKind k, const std::vector<double>& p, double h) {
  const Support s = support(k, p);
  const double half_pi = std::numbers::pi / 2;
  double sum = 0;
  const double T = std::isinf(s.hi) ? 6.0 : 4.0;
  for (double t = -T; t <= T; t += h) {
    const double u = half_pi * std::sinh(t);
    const double du = half_pi * std::cosh(t);
    double x, w;
    if (!std::isinf(s.lo) && !std::isinf(s.hi)) { // tanh-sinh
      x = s.lo + (s.hi - s.lo) / (1 + std::exp(-2 * u));
      const double c = std::cosh(u);
      w = (s.hi - s.lo) / 2 * du / (c * c);
    } else if (!std::isinf(s.lo)) { // exp-sinh
      x = s.lo + std::exp(u);
      w = std::exp(u) * du;
    } else { // sinh-sinh
      x = std::sinh(u);
      w = std::cosh(u) * du;
    }
    const double f = std::exp(logDensity(k, p, x)) * w;
    if (std::isfinite(f)) sum += f;
  }
  return sum * h;
}

} // namespace

TEST_CASE("dist: every discrete pmf sums to 1", "[dist]") {
  struct Case {
    DistKind k;
    std::vector<double> p;
  };
  const std::vector<Case> cases = {
      {DistKind::Bernoulli, {0.3}},         {DistKind::Bernoulli, {0}},
      {DistKind::Bernoulli, {1}},           {DistKind::Categorical, {0.2, 0, 3, 1e-9}},
      {DistKind::Categorical, {1}},         {DistKind::Binomial, {0, 0.4}},
      {DistKind::Binomial, {20, 0.35}},     {DistKind::Binomial, {5000, 0.999}},
      {DistKind::Binomial, {1000, 1e-4}},   {DistKind::Poisson, {0.001}},
      {DistKind::Poisson, {4.2}},           {DistKind::Poisson, {2000}},
      {DistKind::DiscreteUniform, {-5, 7}}, {DistKind::DiscreteUniform, {3, 3}},
      {DistKind::Geometric, {0.5}},         {DistKind::Geometric, {0.003}},
      {DistKind::Geometric, {1}},
  };
  for (const Case& c : cases) {
    INFO(chassis::signature(c.k).name << " param0 " << c.p[0]);
    CHECK(std::abs(pmfSum(c.k, c.p) - 1) < 1e-12);
  }
}

TEST_CASE("dist: every continuous density integrates to 1", "[dist]") {
  struct Case {
    DistKind k;
    std::vector<double> p;
  };
  const std::vector<Case> cases = {
      {DistKind::Uniform, {-2, 5}},      {DistKind::Normal, {3, 0.5}},
      {DistKind::Normal, {-100, 20}},    {DistKind::HalfNormal, {2}},
      {DistKind::LogNormal, {0.5, 1.2}}, {DistKind::LogNormal, {-3, 0.2}},
      {DistKind::Cauchy, {1, 2}},        {DistKind::HalfCauchy, {0.5}},
      {DistKind::StudentT, {1.5, 2, 3}}, {DistKind::StudentT, {30, 0, 1}},
      {DistKind::Exponential, {0.2}},    {DistKind::Exponential, {50}},
      {DistKind::Gamma, {0.3, 2}},       {DistKind::Gamma, {2.5, 1.5}},
      {DistKind::Gamma, {200, 10}},      {DistKind::Beta, {0.5, 0.5}},
      {DistKind::Beta, {2.5, 0.7}},      {DistKind::Beta, {40, 60}},
  };
  for (const Case& c : cases) {
    INFO(chassis::signature(c.k).name << " param0 " << c.p[0]);
    CHECK(std::abs(densityIntegral(c.k, c.p, 1.0 / 64) - 1) < 1e-6);
  }
}
