// The NUTS tape's fused log-density nodes (symbolic/ad.h): a vectorised observe or draw recorded
// as one node against the same model written as loops and recorded with one node per element
// (fusion off), on random data and random points: the same log density within 1e-12 relative
// and the same gradient within 1e-12 of its largest component; and a fused tape whose node count
// does not grow with the number of elements.
#include "tests/symbolic/compile_chs.h"
#include "symbolic/ad.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>

using namespace chassis;
using namespace chassis::symbolic;

namespace {

/// `src` with every "@N" replaced by the element count.
std::string withSize(std::string src, int n) {
  const std::string key = "@N", rep = std::to_string(n);
  for (size_t at = src.find(key); at != std::string::npos; at = src.find(key, at + rep.size()))
    src.replace(at, key.size(), rep);
  return src;
}

// A linear regression (kidiq's form: the mean vector computed in a loop, then observed whole),
// a logistic regression (wells'), a whole-array draw with a vector of scales, and groups that
// are not linear (StudentT, Gamma draws through the log transform, a Poisson of exp); a
// whole-array draw with a shared scale (Draw).
const char* kModels = R"(
module Regression(x: real[@N], y: real[@N]) -> (beta: real[2], sigma: real) {
    beta ~ Flat();
    sigma ~ HalfCauchy(2.5);
    var mu: real[@N];
    for i in 0..@N {
        mu[i] = beta[0] + beta[1] * x[i];
    }
    observe(Normal(mu, sigma), y);
}
module RegressionLooped(x: real[@N], y: real[@N]) -> (beta: real[2], sigma: real) {
    beta ~ Flat();
    sigma ~ HalfCauchy(2.5);
    for i in 0..@N {
        observe(Normal(beta[0] + beta[1] * x[i], sigma), y[i]);
    }
}
module Logistic(x: real[@N], b: bool[@N]) -> (beta: real[2]) {
    beta ~ Flat();
    var p: real[@N];
    for i in 0..@N {
        p[i] = sigmoid(beta[0] + beta[1] * x[i]);
    }
    observe(Bernoulli(p), b);
}
module LogisticLooped(x: real[@N], b: bool[@N]) -> (beta: real[2]) {
    beta ~ Flat();
    for i in 0..@N {
        observe(Bernoulli(sigmoid(beta[0] + beta[1] * x[i])), b[i]);
    }
}
module Mixed(x: real[@N], y: real[@N], k: int[@N]) -> (theta: real[@N], g: real[@N]) {
    mu ~ Normal(0.0, 5.0);
    tau ~ HalfNormal(1.0);
    theta ~ Normal(mu, tau);
    observe(Normal(theta, x), y);
    observe(StudentT(5.0, mu, tau), y);
    g ~ Gamma(2.0, 1.5);
    observe(Poisson(exp(theta)), k);
}
module MixedLooped(x: real[@N], y: real[@N], k: int[@N]) -> (theta: real[@N], g: real[@N]) {
    mu ~ Normal(0.0, 5.0);
    tau ~ HalfNormal(1.0);
    for i in 0..@N {
        theta[i] ~ Normal(mu, tau);
    }
    for i in 0..@N {
        observe(Normal(theta[i], x[i]), y[i]);
    }
    for i in 0..@N {
        observe(StudentT(5.0, mu, tau), y[i]);
    }
    for i in 0..@N {
        g[i] ~ Gamma(2.0, 1.5);
    }
    for i in 0..@N {
        observe(Poisson(exp(theta[i])), k[i]);
    }
}
module Draw(y: real[@N]) -> (theta: real[@N]) {
    mu ~ Cauchy(0.0, 2.0);
    tau ~ HalfNormal(1.0);
    theta ~ Normal(mu, tau);
    observe(StudentT(3.0, theta, 1.5), y);
}
module DrawLooped(y: real[@N]) -> (theta: real[@N]) {
    mu ~ Cauchy(0.0, 2.0);
    tau ~ HalfNormal(1.0);
    for i in 0..@N {
        theta[i] ~ Normal(mu, tau);
    }
    for i in 0..@N {
        observe(StudentT(3.0, theta[i], 1.5), y[i]);
    }
}
)";

std::vector<double> uniforms(Rng& r, int n, double lo, double hi) {
  std::vector<double> v(size_t(n), 0.0);
  for (double& x : v)
    x = lo + (hi - lo) * r.uniform();
  return v;
}

std::vector<Value> randomInputs(const std::string& module, int n, Rng& r) {
  if (module == "Regression")
    return {Value::array(uniforms(r, n, 70, 140)), Value::array(uniforms(r, n, 20, 140))};
  if (module == "Draw") return {Value::array(uniforms(r, n, -3, 3))};
  if (module == "Logistic") {
    std::vector<double> b(static_cast<size_t>(n), 0.0);
    for (double& x : b)
      x = r.uniform() < 0.6 ? 1 : 0;
    return {Value::array(uniforms(r, n, 0, 3)), Value::array(b)};
  }
  std::vector<double> k(static_cast<size_t>(n), 0.0);
  for (double& x : k)
    x = std::floor(6 * r.uniform());
  return {Value::array(uniforms(r, n, 0.5, 3)), Value::array(uniforms(r, n, -3, 3)),
          Value::array(k)};
}

struct Worst {
  double value = 0, gradient = 0;
};

/// Compares the fused tape of `module` with the unfused tape of `module`Looped at random points.
Worst compare(const std::string& module, int n, uint64_t seed) {
  auto c = testing::compileChs(withSize(kModels, n));
  Rng data(seed);
  const std::vector<Value> in = randomInputs(module, n, data);
  LogDensityTape fused(*c.ir.findFunction(module), in);
  LogDensityTape looped(*c.ir.findFunction(module + "Looped"), in, /*fuse=*/false);
  Rng r1(seed + 1), r2(seed + 1);
  REQUIRE(fused.initialize(r1));
  REQUIRE(looped.initialize(r2));
  REQUIRE(fused.dimension() == looped.dimension());
  CHECK(fused.addresses() == looped.addresses());
  CHECK(fused.tapeSize() < looped.tapeSize());
  Worst w;
  Rng pts(seed + 2);
  int finite = 0;
  for (int trial = 0; trial < 40; ++trial) {
    std::vector<double> u = uniforms(pts, int(fused.dimension()), -2, 2);
    std::vector<double> g1(u.size()), g2(u.size());
    auto l1 = fused.logDensity(u, g1);
    auto l2 = looped.logDensity(u, g2);
    REQUIRE(l1);
    REQUIRE(l2);
    INFO(module << " n=" << n << " trial " << trial);
    REQUIRE(std::isfinite(*l2) == std::isfinite(*l1));
    if (!std::isfinite(*l2)) continue;
    ++finite;
    const double rel = std::fabs(*l1 - *l2) / std::max(1.0, std::fabs(*l2));
    CHECK(rel <= 1e-12);
    w.value = std::max(w.value, rel);
    double scale = 1;
    for (double g : g2)
      scale = std::max(scale, std::fabs(g));
    for (size_t k = 0; k < u.size(); ++k) {
      const double e = std::fabs(g1[k] - g2[k]) / scale;
      CHECK(e <= 1e-12);
      w.gradient = std::max(w.gradient, e);
    }
  }
  CHECK(finite >= 20);
  return w;
}

} // namespace

TEST_CASE("fused log densities: vectorised forms equal the looped per-element tape",
          "[ad][fused]") {
  for (const char* module : {"Regression", "Logistic", "Mixed", "Draw"})
    for (int n : {2, 7, 60})
      for (uint64_t seed : {11u, 12u}) {
        Worst w = compare(module, n, seed);
        WARN(module << " n=" << n << " seed " << seed << ": worst relative log density "
                    << w.value << ", worst gradient error / max |gradient| " << w.gradient);
      }
}

TEST_CASE("fused log densities: one node per observe, whatever the number of elements",
          "[ad][fused]") {
  for (const char* module : {"Regression", "Logistic"}) {
    size_t fusedSizes[2], loopedSizes[2];
    for (int s = 0; s < 2; ++s) {
      const int n = s == 0 ? 10 : 200;
      auto c = testing::compileChs(withSize(kModels, n));
      Rng data(3);
      const std::vector<Value> in = randomInputs(module, n, data);
      LogDensityTape fused(*c.ir.findFunction(module), in);
      LogDensityTape looped(*c.ir.findFunction(module), in, /*fuse=*/false);
      Rng r1(4), r2(4);
      REQUIRE(fused.initialize(r1));
      REQUIRE(looped.initialize(r2));
      fusedSizes[s] = fused.tapeSize();
      loopedSizes[s] = looped.tapeSize();
    }
    INFO(module);
    CHECK(fusedSizes[0] == fusedSizes[1]);
    CHECK(loopedSizes[1] > loopedSizes[0] + 190);
  }
}

TEST_CASE("fused log densities: a point outside the domain is rejected as by the loop",
          "[ad][fused]") {
  // sigma comes from a position coordinate through an identity transform (Flat), so negative
  // values reach the fused Normal node: -inf there as in the looped form.
  auto c = testing::compileChs(R"(
module M(y: real[5]) -> (s: real) {
    s ~ Flat();
    observe(Normal(1.0, s), y);
}
)");
  const std::vector<Value> in = {Value::array({0.1, 0.5, -0.3, 1.2, 2.0})};
  LogDensityTape fused(*c.ir.findFunction("M"), in);
  LogDensityTape looped(*c.ir.findFunction("M"), in, false);
  Rng r1(1), r2(1);
  REQUIRE(fused.initialize(r1));
  REQUIRE(looped.initialize(r2));
  for (double s : {0.7, -0.4, 1.3, 0.0}) {
    std::vector<double> u = {s}, g1(1), g2(1);
    auto l1 = fused.logDensity(u, g1);
    auto l2 = looped.logDensity(u, g2);
    REQUIRE(l1);
    REQUIRE(l2);
    INFO("s = " << s);
    if (s > 0) {
      CHECK(std::fabs(*l1 - *l2) <= 1e-12 * std::fabs(*l2));
      CHECK(std::fabs(g1[0] - g2[0]) <= 1e-12 * std::max(1.0, std::fabs(g2[0])));
    } else {
      CHECK(*l1 == -INFINITY);
      CHECK(*l2 == -INFINITY);
    }
  }
}

TEST_CASE("fused products: a recurrence's sums of products are Dot nodes, same value and gradient",
          "[ad][fused]") {
  // A GARCH-like volatility recursion: each s[t] is sqrt of a left-deep sum of a plain term and
  // two products whose intermediates feed nothing else, so each becomes one Dot node; the value
  // and gradient equal the unfused tape's within rounding. In Shared, `inner` is an output and
  // is also read by the likelihood: it stays a node of its own, and a chain's value keeps its
  // bits (the Dot adds the same terms in the same order).
  const int n = 40;
  auto c = testing::compileChs(withSize(R"(
module Rec(y: real[@N]) -> (a: real, b: real, c: real) {
    a ~ Normal(0.0, 1.0);
    b ~ HalfNormal(1.0);
    c ~ HalfNormal(1.0);
    var s: real[@N];
    s[0] = 1.0;
    for t in 1..@N {
        s[t] = sqrt(b + c * square(y[t - 1] - a) + 0.5 * c * square(s[t - 1]));
    }
    observe(Normal(a, s), y);
}
module Shared(y: real[3]) -> (a: real, inner: real) {
    a ~ Normal(0.0, 1.0);
    inner = a * y[0] + a * a;
    observe(Normal(inner + a * y[1], 1.0), y[2]);
}
)",
                                       n));
  Rng data(5);
  {
    const std::vector<Value> in = {Value::array(uniforms(data, n, -2, 2))};
    LogDensityTape fused(*c.ir.findFunction("Rec"), in);
    LogDensityTape plain(*c.ir.findFunction("Rec"), in, /*fuse=*/false);
    Rng r1(6), r2(6);
    REQUIRE(fused.initialize(r1));
    REQUIRE(plain.initialize(r2));
    size_t dots = 0;
    for (const TapeNodeView& nd : fused.view().nodes)
      dots += nd.kind == TapeNodeKind::Dot ? 1 : 0;
    CHECK(dots == size_t(n - 1));
    // Per element: two Muls and an Add fewer (and the log densities fused into one node).
    CHECK(fused.tapeSize() + 3 * size_t(n - 1) <= plain.tapeSize());
    Rng pts(7);
    int finite = 0;
    for (int trial = 0; trial < 30; ++trial) {
      std::vector<double> u = uniforms(pts, 3, -2, 2), g1(3), g2(3);
      auto l1 = fused.logDensity(u, g1);
      auto l2 = plain.logDensity(u, g2);
      REQUIRE(l1);
      REQUIRE(l2);
      INFO("trial " << trial);
      REQUIRE(std::isfinite(*l1) == std::isfinite(*l2));
      if (!std::isfinite(*l1)) continue;
      ++finite;
      // Not bit for bit: the fused Normal node sums the elements in its own order.
      CHECK(std::fabs(*l1 - *l2) <= 1e-12 * std::max(1.0, std::fabs(*l2)));
      for (int k = 0; k < 3; ++k)
        CHECK(std::fabs(g1[size_t(k)] - g2[size_t(k)]) <=
              1e-12 * std::max(1.0, std::fabs(g2[size_t(k)])));
    }
    CHECK(finite >= 20);
  }
  {
    const std::vector<Value> in = {Value::array({0.7, -1.3, 0.4})};
    LogDensityTape fused(*c.ir.findFunction("Shared"), in);
    LogDensityTape plain(*c.ir.findFunction("Shared"), in, /*fuse=*/false);
    Rng r1(8), r2(8);
    REQUIRE(fused.initialize(r1));
    REQUIRE(plain.initialize(r2));
    for (double a : {-1.5, 0.2, 1.1}) {
      std::vector<double> u = {a}, g1(1), g2(1), out(2);
      auto l1 = fused.logDensity(u, g1);
      auto l2 = plain.logDensity(u, g2);
      REQUIRE(l1);
      REQUIRE(l2);
      CHECK(*l1 == *l2); // one element: nothing reordered, the Dots keep the chains' bits
      // a's contributions within a chain (a * y[0], a * a) reach its adjoint in another order
      CHECK(std::fabs(g1[0] - g2[0]) <= 1e-15 * std::max(1.0, std::fabs(g2[0])));
      fused.readOutputs(out);
      CHECK(out[0] == a);
      CHECK(out[1] == a * 0.7 + a * a);
    }
  }
}
