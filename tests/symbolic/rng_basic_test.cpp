// Tests of chassis::Rng: the documented algorithm (known answers computed by an independent
// Python transcription of rng.cpp's header), determinism, the open interval of uniform(), the
// normal's ziggurat (its tables' equations, the draws' distribution: moments, Kolmogorov-Smirnov,
// tails), and independence of streams and splits (sample correlation near 0).
#include "spec/rng.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>
#include <vector>

using chassis::Rng;

TEST_CASE("rng: known answers of the documented algorithm", "[rng]") {
  Rng a(42);
  CHECK(a.nextU64() == 0x1fbd9bae49ee7b3ULL);
  CHECK(a.nextU64() == 0x718e6fa95cd5e8cULL);
  CHECK(a.nextU64() == 0xb5dd5bcf1cbe0bc7ULL);
  Rng b(42, 7);
  CHECK(b.nextU64() == 0x8cfdf0a48d9d3d1fULL);
  CHECK(b.nextU64() == 0x75bf91c0d036c334ULL);
  Rng c = Rng(42).split(3);
  CHECK(c.nextU64() == 0x5050327b95a66cd1ULL);
  CHECK(c.nextU64() == 0xf11378c7b527a430ULL);
  Rng d(1);
  CHECK(d.uniform() == 0.75153008566583);
  // The ziggurat normal: the first draws, and the sum of 100,000 draws in order (about 1,200
  // of them decided in a wedge and 26 in the tail), then the generator's next word.
  Rng e(1);
  CHECK(e.normal() == 0x1.b11ebd05b9d9fp-1);
  CHECK(e.normal() == -0x1.97c7d38ab7554p+0);
  CHECK(e.normal() == 0x1.cba7cc8bae963p-1);
  CHECK(e.normal() == 0x1.fd1aee32b2b4dp-1);
  Rng f(42);
  CHECK(f.normal() == -0x1.2e33f2d07bae1p-7);
  CHECK(f.normal() == 0x1.4a5aabd0c73afp-5);
  Rng g(1);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) sum += g.normal();
  CHECK(sum == -0x1.425d9f1fa8e9bp+6);
  CHECK(g.nextU64() == 0x8e3b3ea81ed88090ULL);
}

TEST_CASE("rng: the ziggurat's layers have equal areas under the normal density", "[rng]") {
  using namespace chassis::rng_detail;
  auto f = [](double x) { return std::exp(-0.5 * x * x); };
  const double r = kZigR;
  // v: the base layer's rectangle [0, r] x [0, f(r)] with the tail beyond r.
  const double v = r * f(r) + std::sqrt(std::numbers::pi / 2) * std::erfc(r / std::numbers::sqrt2);
  CHECK(kZigLayers[0].inner == r);
  CHECK(std::abs(kZigLayers[0].scale * 0x1.0p53 * f(r) - v) < 1e-14 * v); // x_0 = v / f(r)
  CHECK(kZigLayers[255].inner == 0.0);
  CHECK(kZigDensity[256] == 1.0);
  double total = 0;
  for (size_t i = 1; i < 256; ++i) {
    INFO("layer " << i);
    const double xi = kZigLayers[i].scale * 0x1.0p53;
    REQUIRE(xi == kZigLayers[i - 1].inner); // x_i, the layer below's inner width
    REQUIRE(kZigLayers[i].inner < xi);
    REQUIRE(std::abs(kZigDensity[i] - f(xi)) <= 1e-14 * f(xi)); // f of x_i before its rounding
    REQUIRE(std::abs(xi * (kZigDensity[i + 1] - kZigDensity[i]) - v) < 1e-12 * v);
    total += xi * (kZigDensity[i + 1] - kZigDensity[i]);
  }
  // 256 layers of area v cover the half density's sqrt(pi / 2) and what the wedges reject.
  CHECK(std::abs(total + v - 256 * v) < 1e-12);
  CHECK(256 * v > std::sqrt(std::numbers::pi / 2));
}

TEST_CASE("rng: normal draws follow the standard normal distribution, tails included", "[rng]") {
  // Kolmogorov-Smirnov on 1,000,000 draws: D < 1.95 / sqrt(n) has probability 0.999 for the
  // normal itself; a wrong layer width, density or wedge test moves the CDF by more.
  Rng r(2024);
  const size_t n = 1000000;
  std::vector<double> z(n);
  for (double& x : z) x = r.normal();
  std::sort(z.begin(), z.end());
  double d = 0;
  for (size_t i = 0; i < n; ++i) {
    const double cdf = 0.5 * std::erfc(-z[i] / std::numbers::sqrt2);
    d = std::max({d, std::abs(cdf - double(i) / n), std::abs(cdf - double(i + 1) / n)});
  }
  CHECK(d < 1.95 / std::sqrt(double(n)));
  // The tail beyond r (drawn by its own method) and far out: counts within 5 sd of 2 Q(t) n, and
  // beyond r the mean of |z| is phi(r) / Q(r).
  const size_t m = 4000000;
  const double t1 = chassis::rng_detail::kZigR, t2 = 4.5;
  size_t c1 = 0, c2 = 0, neg = 0;
  double tailSum = 0;
  for (size_t i = 0; i < m; ++i) {
    const double x = r.normal();
    neg += std::signbit(x);
    if (std::abs(x) > t1) {
      ++c1;
      tailSum += std::abs(x);
    }
    c2 += std::abs(x) > t2;
  }
  auto q = [](double t) { return 0.5 * std::erfc(t / std::numbers::sqrt2); };
  for (auto [count, t] : {std::pair{c1, t1}, std::pair{c2, t2}}) {
    const double expected = 2 * q(t) * double(m);
    INFO("beyond " << t << ": " << count << " draws, " << expected << " expected");
    CHECK(std::abs(double(count) - expected) < 5 * std::sqrt(expected));
  }
  const double phi = std::exp(-0.5 * t1 * t1) / std::sqrt(2 * std::numbers::pi);
  CHECK(std::abs(tailSum / double(c1) - phi / q(t1)) < 0.02); // sd of the mean ~0.008
  CHECK(std::abs(double(neg) - 0.5 * double(m)) < 5 * std::sqrt(0.25 * double(m)));
}

TEST_CASE("rng: same seed gives identical draws; split does not advance", "[rng]") {
  Rng a(123, 4), b(123, 4);
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(a.nextU64() == b.nextU64());
    REQUIRE(a.normal() == b.normal());
  }
  Rng s1 = a.split(9);
  Rng s2 = a.split(9);
  CHECK(s1.nextU64() == s2.nextU64());
  CHECK(a.nextU64() == b.nextU64()); // split left `a` unchanged
  Rng other(124, 4);
  CHECK(other.nextU64() != Rng(123, 4).nextU64());
}

TEST_CASE("rng: uniform is in the open interval with the right moments", "[rng]") {
  Rng r(7);
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    REQUIRE(u > 0.0);
    REQUIRE(u < 1.0);
    s += u;
    s2 += u * u;
  }
  const double m = s / n, v = s2 / n - m * m;
  CHECK(std::abs(m - 0.5) < 5 * std::sqrt(1.0 / 12 / n));
  CHECK(std::abs(v - 1.0 / 12) < 5 * std::sqrt((1.0 / 80 - 1.0 / 144) / n));
}

TEST_CASE("rng: normal has mean 0, variance 1, kurtosis 3", "[rng]") {
  Rng r(99);
  const int n = 200000;
  double s = 0, s2 = 0, s4 = 0;
  for (int i = 0; i < n; ++i) {
    const double z = r.normal();
    s += z;
    s2 += z * z;
    s4 += z * z * z * z;
  }
  CHECK(std::abs(s / n) < 5 * std::sqrt(1.0 / n));
  CHECK(std::abs(s2 / n - 1) < 5 * std::sqrt(2.0 / n));
  CHECK(std::abs(s4 / n - 3) < 5 * std::sqrt(96.0 / n)); // Var(z^4) = 105 - 9
}

namespace {
double correlation(Rng a, Rng b, int n) {
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (int i = 0; i < n; ++i) {
    const double x = a.uniform(), y = b.uniform();
    sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
  }
  const double cov = sab / n - sa / n * sb / n;
  return cov / std::sqrt((saa / n - sa * sa / n / n) * (sbb / n - sb * sb / n / n));
}
} // namespace

TEST_CASE("rng: streams and splits are uncorrelated", "[rng]") {
  const int n = 100000;
  const double bound = 5 / std::sqrt(double(n));
  Rng base(2024);
  CHECK(std::abs(correlation(base.split(0), base.split(1), n)) < bound);
  CHECK(std::abs(correlation(base, base.split(0), n)) < bound);
  CHECK(std::abs(correlation(Rng(5, 0), Rng(5, 1), n)) < bound);
  CHECK(std::abs(correlation(Rng(5), Rng(6), n)) < bound);
  // Lagged: a split's stream against its parent's stream shifted by one.
  Rng shifted = base;
  shifted.nextU64();
  CHECK(std::abs(correlation(shifted, base.split(0), n)) < bound);
}
