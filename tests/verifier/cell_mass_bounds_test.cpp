// The cell method's masses (verifier/prob_bounds.h, method 3) are lower bounds of the real prior
// mass of a cell, also on tiny cells, where the float64 difference erfc(a') - erfc(b') of two
// numbers near 1 has an absolute error far larger than the difference itself. Checked against
// the exact mass computed in 50 significant digits (Boost.Multiprecision) from the same doubles;
// and on the same cells the plain float64 difference with the relative 1e-9 widening it used to
// get is shown to overshoot the real mass (so these cells do test the bound).
#include "verifier/prob_bounds.h"

#include <boost/math/special_functions/erf.hpp>
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace chassis;
using namespace chassis::verifier;
using Big = boost::multiprecision::cpp_bin_float_50;

namespace {

/// P(a <= X <= b), X ~ Normal(mu, sigma), in 50 digits from the exact doubles.
Big normalMass(double mu, double sigma, double a, double b) {
  Big s = Big(sigma) * boost::multiprecision::sqrt(Big(2));
  return (boost::math::erfc((Big(a) - Big(mu)) / s) - boost::math::erfc((Big(b) - Big(mu)) / s)) /
         2;
}

/// The float64 difference the cell method used to count (erfc on the accurate tail side), with
/// its former relative 1e-9 widening.
double formerNormalMass(double mu, double sigma, double a, double b) {
  double s = sigma * std::sqrt(2.0), m;
  if (a >= mu)
    m = 0.5 * (std::erfc((a - mu) / s) - std::erfc((b - mu) / s));
  else if (b <= mu)
    m = 0.5 * (std::erfc((mu - b) / s) - std::erfc((mu - a) / s));
  else
    m = 1 - 0.5 * std::erfc((b - mu) / s) - 0.5 * std::erfc((mu - a) / s);
  return m * (1 - 1e-9);
}

} // namespace

TEST_CASE("cell masses: Normal lower bounds hold on tiny cells", "[properties][cells]") {
  int cells = 0, formerOvershoots = 0;
  for (double mu : {0.0, 1.5, -40.0})
    for (double sigma : {1.0, 0.01, 250.0})
      for (double offset : {-3.0, -0.7, -1e-3, 0.0, 1e-6, 0.4, 2.5, 6.0})
        for (double width : {1.0, 1e-3, 1e-7, 1e-10, 1e-13}) {
          double a = mu + offset * sigma, b = a + width * sigma;
          if (!(a < b)) continue;
          ++cells;
          double lower = choiceMassLowerBound(DistKind::Normal, {mu, sigma}, a, b);
          Big exact = normalMass(mu, sigma, a, b);
          INFO("mu " << mu << " sigma " << sigma << " [" << a << ", " << b << "] exact "
                     << exact.str(20) << " lower " << lower);
          CHECK(lower >= 0);
          CHECK(Big(lower) <= exact);
          // Not vacuous: within 1e-12 relative plus 1e-14 absolute of the real mass.
          CHECK(Big(lower) >= exact * (1 - Big(1e-12)) - Big(1e-14));
          if (Big(formerNormalMass(mu, sigma, a, b)) > exact) ++formerOvershoots;
        }
  WARN("Normal cells: " << cells << ", on which the former float64 mass exceeded the real one: "
                         << formerOvershoots);
  CHECK(cells > 100);
  // The former rule counted more than the real mass on some of these cells.
  CHECK(formerOvershoots > 0);
}

TEST_CASE("cell masses: Exponential, HalfNormal, Uniform lower bounds hold", "[properties][cells]") {
  for (double a : {0.0, 1e-9, 0.3, 2.0, 30.0})
    for (double width : {5.0, 1e-4, 1e-9, 1e-13}) {
      double b = a + width;
      INFO("[" << a << ", " << b << "]");
      {
        double rate = 1.7;
        Big exact = boost::multiprecision::exp(-Big(rate) * Big(a)) -
                    boost::multiprecision::exp(-Big(rate) * Big(b));
        double lower = choiceMassLowerBound(DistKind::Exponential, {rate}, a, b);
        CHECK(lower >= 0);
        CHECK(Big(lower) <= exact);
        CHECK(Big(lower) >= exact * (1 - Big(1e-12)) - Big(1e-14));
      }
      {
        double sigma = 0.8;
        Big s = Big(sigma) * boost::multiprecision::sqrt(Big(2));
        Big exact = boost::math::erfc(Big(a) / s) - boost::math::erfc(Big(b) / s);
        double lower = choiceMassLowerBound(DistKind::HalfNormal, {sigma}, a, b);
        CHECK(lower >= 0);
        CHECK(Big(lower) <= exact);
        CHECK(Big(lower) >= exact * (1 - Big(1e-12)) - Big(1e-14));
      }
      {
        double lo = -0.1, hi = 3.3; // 3.4 is not a double: the width rounds
        Big l = std::max(Big(a), Big(lo)), h = std::min(Big(b), Big(hi));
        Big exact = h > l ? (h - l) / (Big(hi) - Big(lo)) : Big(0);
        double lower = choiceMassLowerBound(DistKind::Uniform, {lo, hi}, a, b);
        CHECK(lower >= 0);
        CHECK(Big(lower) <= exact);
        CHECK(Big(lower) >= exact * (1 - Big(1e-12)) - Big(1e-14));
      }
    }
  // Empty and reversed cells have no mass; an unsupported distribution counts nothing.
  CHECK(choiceMassLowerBound(DistKind::Normal, {0.0, 1.0}, 1.0, 1.0) == 0);
  CHECK(choiceMassLowerBound(DistKind::Normal, {0.0, 1.0}, 2.0, 1.0) == 0);
  CHECK(choiceMassLowerBound(DistKind::Bernoulli, {0.5}, 0.0, 1.0) == 0);
}
