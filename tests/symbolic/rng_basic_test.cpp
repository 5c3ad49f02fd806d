// Tests of chassis::Rng: the documented algorithm (known answers computed by an independent
// Python transcription of rng.cpp's header), determinism, the open interval of uniform(), the
// normal's moments, and independence of streams and splits (sample correlation near 0).
#include "spec/rng.h"

#include <catch2/catch.hpp>

#include <cmath>
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
