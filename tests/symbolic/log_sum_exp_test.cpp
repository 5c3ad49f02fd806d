// The log-sum-exp of likelihood weighting's log evidence (symbolic/summary.h): its exp by
// arithmetic alone (expOfNonPositive) against std::exp, and the log-sum-exp taken piece by piece
// (logSumExpPart, combineLogSumExp, as symbolic/lw_driver.h takes it per block) against the
// whole one (logSumExp), with the special values (empty, -inf, +inf, NaN) giving what logSumExp
// gives.
#include "spec/rng.h"
#include "symbolic/summary.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

using namespace chassis;
using namespace chassis::symbolic;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double logSumExpInPieces(const std::vector<double>& xs, const std::vector<size_t>& sizes) {
  std::vector<LogSumExpPart> parts;
  size_t at = 0;
  for (size_t s : sizes) {
    parts.push_back(logSumExpPart(std::span<const double>(xs).subspan(at, s)));
    at += s;
  }
  REQUIRE(at == xs.size());
  return combineLogSumExp(parts);
}
} // namespace

TEST_CASE("exp by arithmetic is within 3 ulps of std::exp on [-708, 0]", "[symbolic][summary]") {
  Rng rng(11);
  double worst = 0; // in ulps of the reference
  for (int i = 0; i < 400000; ++i) {
    // Uniform on [-708, 0], and log-spaced toward 0 (down to 1e-300).
    const double x = i % 2 ? -708.0 * rng.uniform() : -std::pow(10.0, -300.0 * rng.uniform());
    const double ref = std::exp(x), got = expOfNonPositive(x);
    const double ulps = std::abs(got - ref) / (std::nextafter(ref, kInf) - ref);
    worst = std::max(worst, ulps);
  }
  INFO("worst error " << worst << " ulps");
  CHECK(worst <= 3.0);
  CHECK(expOfNonPositive(0.0) == 1.0);
  CHECK(expOfNonPositive(-0.0) == 1.0);
  CHECK(expOfNonPositive(-708.0) == Approx(std::exp(-708.0)).epsilon(1e-15));
  CHECK(expOfNonPositive(-708.5) == 0.0);
  CHECK(expOfNonPositive(-1e300) == 0.0);
  CHECK(expOfNonPositive(-kInf) == 0.0);
  CHECK(std::isnan(expOfNonPositive(kNaN)));
}

TEST_CASE("the log-sum-exp in pieces agrees with the whole one", "[symbolic][summary]") {
  Rng rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> xs;
    std::vector<size_t> sizes;
    const size_t pieces = 1 + size_t(rng.uniform() * 6);
    for (size_t p = 0; p < pieces; ++p) {
      const size_t n = size_t(rng.uniform() * 23); // empty, shorter than the lanes, uneven
      const double centre = -800.0 * rng.uniform();
      for (size_t i = 0; i < n; ++i) {
        const double u = rng.uniform();
        xs.push_back(u < 0.05 ? -kInf : centre - 40.0 * rng.uniform());
      }
      sizes.push_back(n);
    }
    const double whole = logSumExp(xs), pieced = logSumExpInPieces(xs, sizes);
    INFO("trial " << trial << " whole " << whole << " in pieces " << pieced);
    if (std::isinf(whole)) {
      CHECK(pieced == whole);
    } else {
      CHECK(std::abs(pieced - whole) <= 1e-13 * std::max(1.0, std::abs(whole)));
    }
  }
  // A single finite term is its own log-sum-exp (exp(0) = 1 exactly), alone or beside -inf.
  CHECK(logSumExpInPieces({-2.5}, {1}) == -2.5);
  CHECK(logSumExpInPieces({-kInf, -kInf, -7.25, -kInf, -kInf, -kInf}, {6}) == -7.25);
  // The special values.
  CHECK(logSumExpInPieces({}, {}) == -kInf);
  CHECK(logSumExpInPieces({}, {0, 0}) == -kInf);
  CHECK(logSumExpInPieces({-kInf, -kInf}, {1, 1}) == -kInf);
  CHECK(logSumExpInPieces({-kInf, -2.0, -kInf, -kInf, -kInf}, {2, 3}) == -2.0);
  CHECK(logSumExpInPieces({-1.0, kInf, -3.0}, {1, 2}) == kInf);
  CHECK(std::isnan(logSumExpInPieces({-1.0, kNaN, -3.0, -4.0, -5.0, -6.0}, {3, 3})));
  CHECK(std::isnan(logSumExp(std::vector<double>{-1.0, kNaN, -3.0})));
}
