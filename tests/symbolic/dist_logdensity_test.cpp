// Tests of the log densities / masses against closed forms evaluated independently in 40-digit
// arithmetic (mpmath), of -inf outside the support and at non-integral points of discrete kinds,
// of the support intervals, and of the validation messages.
#include "symbolic/distributions.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

using chassis::DistKind;
using namespace chassis::symbolic;

namespace {
struct Ref {
  DistKind k;
  std::vector<double> params;
  double x, logp;
};
} // namespace

TEST_CASE("dist: log densities match closed forms to 1e-12", "[dist]") {
  const std::vector<Ref> refs = {
      {DistKind::Bernoulli, {0.3}, 1.0, -1.2039728043259359926},
      {DistKind::Bernoulli, {0.3}, 0.0, -0.35667494393873237891},
      {DistKind::Categorical, {1.0, 2.0, 5.0}, 2.0, -0.47000362924573555365},
      {DistKind::Binomial, {10.0, 0.3}, 3.0, -1.321151277766888636},
      {DistKind::Binomial, {1000.0, 0.01}, 7.0, -2.4080948602052270566},
      {DistKind::Poisson, {3.5}, 4.0, -1.6670019563664736369},
      {DistKind::Poisson, {1000.0}, 1020.0, -4.5814790277909260783},
      {DistKind::DiscreteUniform, {-3.0, 4.0}, 0.0, -2.0794415416798359283},
      {DistKind::Geometric, {0.25}, 3.0, -2.2493405784752334012},
      {DistKind::Uniform, {-1.0, 3.0}, 0.5, -1.3862943611198906188},
      {DistKind::Normal, {1.0, 2.0}, -0.5, -1.8933357137646180512},
      {DistKind::HalfNormal, {1.5}, 2.0, -1.5201453496417807032},
      {DistKind::LogNormal, {0.2, 0.7}, 1.3, -0.82859652871564689143},
      {DistKind::Cauchy, {1.0, 3.0}, -2.0, -2.936489355077455175},
      {DistKind::HalfCauchy, {2.0}, 5.0, -3.1257313547159835825},
      {DistKind::StudentT, {3.5, 1.0, 2.0}, 2.5, -2.017950824930544968},
      {DistKind::Exponential, {2.5}, 0.8, -1.0837092681258449348},
      {DistKind::Gamma, {2.5, 1.5}, 1.2, -0.79753776501157626537},
      {DistKind::Gamma, {0.3, 2.0}, 0.05, 1.1091587508377017666},
      {DistKind::Beta, {2.5, 0.7}, 0.3, -1.3591020131569610033},
  };
  for (const Ref& r : refs) {
    INFO(chassis::signature(r.k).name << " at " << r.x);
    REQUIRE(!validateParams(r.k, r.params));
    const double got = logDensity(r.k, r.params, r.x);
    CHECK(std::abs(got - r.logp) <= 1e-12 * std::abs(r.logp));
  }
}

TEST_CASE("dist: -inf outside the support and at non-integral discrete points", "[dist]") {
  const double ninf = -std::numeric_limits<double>::infinity();
  using V = std::vector<double>;
  CHECK(logDensity(DistKind::Bernoulli, V{0.3}, 2) == ninf);
  CHECK(logDensity(DistKind::Bernoulli, V{0.3}, 0.5) == ninf);
  CHECK(logDensity(DistKind::Bernoulli, V{1.0}, 0) == ninf);
  CHECK(logDensity(DistKind::Bernoulli, V{1.0}, 1) == 0);
  CHECK(logDensity(DistKind::Categorical, V{1, 0, 1}, 1) == ninf);
  CHECK(logDensity(DistKind::Categorical, V{1, 0, 1}, 3) == ninf);
  CHECK(logDensity(DistKind::Categorical, V{1, 0, 1}, -1) == ninf);
  CHECK(logDensity(DistKind::Binomial, V{5, 0.5}, 6) == ninf);
  CHECK(logDensity(DistKind::Binomial, V{5, 0.5}, 2.5) == ninf);
  CHECK(logDensity(DistKind::Binomial, V{5, 0.0}, 0) == 0);
  CHECK(logDensity(DistKind::Binomial, V{5, 1.0}, 5) == 0);
  CHECK(logDensity(DistKind::Poisson, V{2}, -1) == ninf);
  CHECK(logDensity(DistKind::Poisson, V{2}, 1.5) == ninf);
  CHECK(logDensity(DistKind::DiscreteUniform, V{1, 3}, 4) == ninf);
  CHECK(logDensity(DistKind::Geometric, V{1.0}, 0) == 0);
  CHECK(logDensity(DistKind::Geometric, V{1.0}, 1) == ninf);
  CHECK(logDensity(DistKind::Uniform, V{0, 1}, 1.5) == ninf);
  CHECK(logDensity(DistKind::HalfNormal, V{1}, -0.1) == ninf);
  CHECK(logDensity(DistKind::LogNormal, V{0, 1}, 0) == ninf);
  CHECK(logDensity(DistKind::HalfCauchy, V{1}, -1) == ninf);
  CHECK(logDensity(DistKind::Exponential, V{1}, -1e-9) == ninf);
  CHECK(logDensity(DistKind::Gamma, V{2, 1}, 0) == ninf);
  CHECK(logDensity(DistKind::Beta, V{2, 2}, 1) == ninf);
  CHECK(logDensity(DistKind::Normal, V{0, 1}, std::nan("")) == ninf);
}

TEST_CASE("dist: supports", "[dist]") {
  using V = std::vector<double>;
  const double inf = std::numeric_limits<double>::infinity();
  auto s = support(DistKind::Binomial, V{7, 0.2});
  CHECK((s.lo == 0 && s.hi == 7 && s.discrete));
  s = support(DistKind::Categorical, V{1, 2, 3, 4});
  CHECK((s.lo == 0 && s.hi == 3 && s.discrete));
  s = support(DistKind::DiscreteUniform, V{-2, 5});
  CHECK((s.lo == -2 && s.hi == 5 && s.discrete));
  s = support(DistKind::Poisson, V{3});
  CHECK((s.lo == 0 && s.hi == inf && s.discrete));
  s = support(DistKind::Normal, V{0, 1});
  CHECK((s.lo == -inf && s.hi == inf && !s.discrete));
  s = support(DistKind::Beta, V{1, 1});
  CHECK((s.lo == 0 && s.hi == 1 && !s.discrete));
  s = support(DistKind::Uniform, V{-1, 2});
  CHECK((s.lo == -1 && s.hi == 2 && !s.discrete));
  s = support(DistKind::Gamma, V{1, 1});
  CHECK((s.lo == 0 && s.hi == inf && !s.discrete));
}

TEST_CASE("dist: validation messages name distribution, parameter and value", "[dist]") {
  using V = std::vector<double>;
  auto msg = [](DistKind k, V p) { return validateParams(k, p).value_or("<valid>"); };
  CHECK(msg(DistKind::Normal, V{0, -1}) == "Normal: sigma must be > 0, got -1");
  CHECK(msg(DistKind::Normal, V{0, 0}) == "Normal: sigma must be > 0, got 0");
  CHECK(msg(DistKind::Normal, V{std::nan(""), 1}) == "Normal: mu must be finite, got nan");
  CHECK(msg(DistKind::Normal, V{0, 1, 2}) == "Normal: expects 2 parameters, got 3");
  CHECK(msg(DistKind::Bernoulli, V{1.5}) == "Bernoulli: p must be in [0, 1], got 1.5");
  CHECK(msg(DistKind::Binomial, V{2.5, 0.5}) == "Binomial: n must be an integer, got 2.5");
  CHECK(msg(DistKind::Binomial, V{-3, 0.5}) == "Binomial: n must be an integer >= 0, got -3");
  CHECK(msg(DistKind::Binomial, V{3, -0.25}) == "Binomial: p must be in [0, 1], got -0.25");
  CHECK(msg(DistKind::Poisson, V{0}) == "Poisson: rate must be > 0, got 0");
  CHECK(msg(DistKind::DiscreteUniform, V{3, 1}) ==
        "DiscreteUniform: lo must be <= hi, got lo = 3, hi = 1");
  CHECK(msg(DistKind::DiscreteUniform, V{0.5, 1}) ==
        "DiscreteUniform: lo must be an integer, got 0.5");
  CHECK(msg(DistKind::Geometric, V{0}) == "Geometric: p must be in (0, 1], got 0");
  CHECK(msg(DistKind::Uniform, V{1, 1}) == "Uniform: lo must be < hi, got lo = 1, hi = 1");
  CHECK(msg(DistKind::HalfNormal, V{-2}) == "HalfNormal: sigma must be > 0, got -2");
  CHECK(msg(DistKind::LogNormal, V{0, -0.5}) == "LogNormal: sigma must be > 0, got -0.5");
  CHECK(msg(DistKind::Cauchy, V{0, 0}) == "Cauchy: scale must be > 0, got 0");
  CHECK(msg(DistKind::HalfCauchy, V{-1}) == "HalfCauchy: scale must be > 0, got -1");
  CHECK(msg(DistKind::StudentT, V{0, 0, 1}) == "StudentT: nu must be > 0, got 0");
  CHECK(msg(DistKind::StudentT, V{1, 0, -1}) == "StudentT: sigma must be > 0, got -1");
  CHECK(msg(DistKind::Exponential, V{-1}) == "Exponential: rate must be > 0, got -1");
  CHECK(msg(DistKind::Gamma, V{0, 1}) == "Gamma: shape must be > 0, got 0");
  CHECK(msg(DistKind::Gamma, V{1, std::numeric_limits<double>::infinity()}) ==
        "Gamma: rate must be > 0, got inf");
  CHECK(msg(DistKind::Beta, V{1, -2}) == "Beta: b must be > 0, got -2");
  CHECK(msg(DistKind::Categorical, V{}) == "Categorical: probs must be non-empty");
  CHECK(msg(DistKind::Categorical, V{0.5, -0.1}) ==
        "Categorical: probs[1] must be finite and >= 0, got -0.1");
  CHECK(msg(DistKind::Categorical, V{0, 0}) == "Categorical: probs must have a positive sum");
  CHECK(msg(DistKind::Categorical, V{0, 3}) == "<valid>");
  CHECK(msg(DistKind::Beta, V{0.5, 0.5}) == "<valid>");
}
