// Tests of the per-distribution traits (symbolic/dist_traits.h) as a whole: for every kind of
// spec/distributions.def, with valid parameters, the trait's pieces agree with one another (the
// transform maps into the support, the bound parameters are the support's bounds, the gradient
// matches a central difference of the density, the cell method's certified mass is below its
// float64 mass), and the entry points of distributions.h / transforms.h / ad.h are the trait's.
#include "symbolic/ad.h"
#include "symbolic/dist_traits.h"
#include "symbolic/distributions.h"
#include "symbolic/transforms.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using chassis::DistKind;
using chassis::kDistSignatures;
using namespace chassis::symbolic;

namespace {

/// Valid parameters for every kind, by name (a kind missing here fails the first test).
std::vector<double> validParams(DistKind k) {
  const std::string n(chassis::signature(k).name);
  if (n == "Bernoulli") return {0.3};
  if (n == "Categorical") return {1.0, 2.0, 5.0};
  if (n == "Binomial") return {10.0, 0.3};
  if (n == "Poisson") return {3.5};
  if (n == "DiscreteUniform") return {-3.0, 4.0};
  if (n == "Geometric") return {0.25};
  if (n == "Uniform") return {-1.0, 3.0};
  if (n == "Normal") return {1.0, 2.0};
  if (n == "HalfNormal") return {1.5};
  if (n == "LogNormal") return {0.2, 0.7};
  if (n == "Cauchy") return {1.0, 3.0};
  if (n == "HalfCauchy") return {2.0};
  if (n == "StudentT") return {3.5, 1.0, 2.0};
  if (n == "Exponential") return {1.5};
  if (n == "Gamma") return {2.5, 1.5};
  if (n == "Beta") return {2.0, 3.0};
  if (n == "Flat") return {};
  if (n == "FlatLower") return {-2.0};
  if (n == "FlatUpper") return {2.0};
  if (n == "FlatInterval") return {-2.0, 5.0};
  return {std::nan("")};
}

std::vector<DistKind> allKinds() {
  std::vector<DistKind> ks;
  for (size_t i = 0; i < kDistSignatures.size(); ++i)
    ks.push_back(static_cast<DistKind>(i));
  return ks;
}

std::pair<int, int> boundParams(DistKind k) {
  return dispatch(k, [](auto d) {
    return std::pair<int, int>(decltype(d)::kLowerParam, decltype(d)::kUpperParam);
  });
}

} // namespace

TEST_CASE("dist traits: the test's parameters are valid for every kind", "[dist][traits]") {
  for (DistKind k : allKinds()) {
    INFO(chassis::signature(k).name);
    CHECK_FALSE(validateParams(k, validParams(k)).has_value());
  }
}

TEST_CASE("dist traits: the transform maps the real line into the support, with finite density",
          "[dist][traits]") {
  for (DistKind k : allKinds()) {
    if (chassis::signature(k).discrete) continue;
    INFO(chassis::signature(k).name);
    const std::vector<double> p = validParams(k);
    const Transform t = transformFor(k, p);
    const Support s = support(k, p);
    for (double u : {-4.0, -0.5, 0.0, 0.7, 4.0}) {
      const double x = constrain(t, u);
      INFO("u = " << u << ", x = " << x);
      CHECK(x >= s.lo);
      CHECK(x <= s.hi);
      CHECK(std::isfinite(logDensity(k, p, x)));
      CHECK(unconstrain(t, x) == Approx(u).margin(1e-9));
    }
  }
}

TEST_CASE("dist traits: a bound parameter is the support's bound", "[dist][traits]") {
  for (DistKind k : allKinds()) {
    INFO(chassis::signature(k).name);
    const std::vector<double> p = validParams(k);
    const Support s = support(k, p);
    const auto [lo, hi] = boundParams(k);
    if (lo >= 0) CHECK(s.lo == p[size_t(lo)]);
    if (hi >= 0) CHECK(s.hi == p[size_t(hi)]);
    // A bound not taken from a parameter is the same for other valid parameters (but the
    // length of Categorical's array).
    if (chassis::signature(k).paramTypes[0] == chassis::DistParamType::RealArray) continue;
    std::vector<double> q = p;
    for (double& v : q)
      v = v > 0 && v < 1 ? v / 2 : v * 2; // still valid for every kind's table entry
    REQUIRE_FALSE(validateParams(k, q).has_value());
    if (lo < 0) CHECK(support(k, q).lo == s.lo);
    if (hi < 0) CHECK(support(k, q).hi == s.hi);
  }
}

TEST_CASE("dist traits: the gradient matches central differences of the density",
          "[dist][traits]") {
  for (DistKind k : allKinds()) {
    INFO(chassis::signature(k).name);
    const std::vector<double> p = validParams(k);
    const Support s = support(k, p);
    const double x = chassis::signature(k).discrete ? s.lo + 1
                     : std::isfinite(s.lo) && std::isfinite(s.hi) ? 0.3 * s.lo + 0.7 * s.hi
                     : std::isfinite(s.lo)                        ? s.lo + 0.8
                     : std::isfinite(s.hi)                        ? s.hi - 0.8
                                                                  : 0.4;
    double dx = 0;
    std::vector<double> dp(p.size());
    const double lp = logDensityGradient(k, p, x, dx, dp);
    REQUIRE(lp == logDensity(k, p, x));
    REQUIRE(std::isfinite(lp));
    const double h = 1e-6;
    if (!chassis::signature(k).discrete)
      CHECK(dx == Approx((logDensity(k, p, x + h) - logDensity(k, p, x - h)) / (2 * h))
                      .epsilon(1e-5)
                      .margin(1e-6));
    for (size_t i = 0; i < p.size(); ++i) {
      if (chassis::signature(k).paramTypes[std::min<size_t>(i, 2)] == chassis::DistParamType::Int)
        continue; // not differentiable
      std::vector<double> a = p, b = p;
      a[i] += h;
      b[i] -= h;
      INFO("parameter " << i);
      CHECK(dp[i] == Approx((logDensity(k, a, x) - logDensity(k, b, x)) / (2 * h))
                         .epsilon(1e-5)
                         .margin(1e-6));
    }
  }
}

TEST_CASE("dist traits: the cell method's certified mass is a lower bound of its mass",
          "[dist][traits]") {
  int withCells = 0;
  for (DistKind k : allKinds()) {
    INFO(chassis::signature(k).name);
    const std::vector<double> p = validParams(k);
    dispatch(k, [&](auto d) {
      using D = decltype(d);
      if constexpr (D::kCellMethod) {
        ++withCells;
        const auto [lo, hi] = D::cellBox(p);
        CHECK(D::intervalMass(p, lo, hi) > 1 - 1e-12);
        for (double f : {0.0, 0.1, 0.45, 0.5, 0.9}) {
          const double a = lo + f * (hi - lo), b = a + 0.05 * (hi - lo);
          const double m = D::intervalMass(p, a, b), lb = D::intervalMassLowerBound(p, a, b);
          INFO("[" << a << ", " << b << "]");
          CHECK(lb <= m);
          CHECK(lb >= 0);
          CHECK(lb == Approx(m).epsilon(1e-9).margin(1e-15));
        }
      }
    });
  }
  CHECK(withCells == 4); // Uniform, Normal, HalfNormal, Exponential
}
