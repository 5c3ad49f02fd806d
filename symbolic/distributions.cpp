// Sampling, log density / mass, support, moments and parameter validation for every distribution
// of spec/distributions.def (parameterisations are listed there): the entry points of
// distributions.h, each a dispatch to the distribution's trait in symbolic/dist_traits.h, and the
// longer samplers the traits call. Sampling uses only chassis::Rng (no std::*_distribution) so
// draws are reproducible. The algorithms:
//
//   Gamma(a, rate)    Marsaglia & Tsang (2000): d = a - 1/3, c = 1/sqrt(9d); z ~ N(0,1),
//                     v = (1 + cz)^3; accept d*v if v > 0 and u < 1 - 0.0331 z^4 or
//                     log u < z^2/2 + d(1 - v + log v). For a < 1 the boost
//                     G(a) = G(a+1) * U^(1/a), done in log space (log G(a+1) + log(U)/a) so that
//                     tiny shapes do not lose the draw to underflow before the final exp.
//   Beta(a, b)        X/(X+Y) with X ~ G(a), Y ~ G(b), from their logs:
//                     x = 1 / (1 + exp(log Y - log X)).
//   Binomial(n, p)    by symmetry p <= 1/2 (draw n - k for 1 - p). n p < 10: inversion (the
//                     recurrence f(k+1) = f(k) (n-k)/(k+1) p/q from f(0) = q^n). Otherwise BTRS,
//                     Hormann's transformed rejection with squeeze (1993), exact for every n.
//   Poisson(rate)     rate < 10: inversion (f(k+1) = f(k) rate/(k+1) from f(0) = e^-rate);
//                     otherwise PTRS (Hormann 1993), exact transformed rejection.
//   Geometric(p)      inversion: floor(log U / log(1 - p)).
//   DiscreteUniform   unbiased rejection on 64-bit integers (no modulo bias).
//   Categorical       inversion over the cumulative sums of the normalised probabilities.
//   StudentT(nu)      Z / sqrt(V / nu), V = 2 G(nu/2) ~ chi^2_nu.
//   Cauchy            Z1 / Z2 (a ratio of standard normals), avoiding libm's tan.
//   others            location-scale transforms of N(0,1), U(0,1), -log U.
//
// Draws that round to a boundary the support excludes (a Gamma draw below the smallest double,
// a Beta draw within half an ulp of 0 or 1) or overflow (a LogNormal draw above the largest
// double, a StudentT draw with tiny nu) are returned as the nearest finite double inside the
// support, so every draw has a finite log density.
#include "symbolic/distributions.h"

#include "symbolic/dist_traits.h"

#include <cmath>
#include <cstdint>
#include <limits>

namespace chassis::symbolic {

// ---------------------------------------------------------------- samplers (dist_traits.h)

namespace {

double binomialInversion(double n, double p, Rng& rng) {
  const double q = 1.0 - p;
  const double s = p / q;
  const double a = (n + 1) * s;
  const double f0 = std::exp(n * std::log1p(-p));
  for (;;) {
    double u = rng.uniform();
    double f = f0;
    double k = 0;
    while (u > f) {
      u -= f;
      k += 1;
      if (k > n) break; // rounding left mass over: redraw
      f *= a / k - s;
    }
    if (k <= n) return k;
  }
}

double binomialBtrs(double n, double p, Rng& rng) {
  const double q = 1.0 - p;
  const double spq = std::sqrt(n * p * q);
  const double b = 1.15 + 2.53 * spq;
  const double a = -0.0873 + 0.0248 * b + 0.01 * p;
  const double c = n * p + 0.5;
  const double vr = 0.92 - 4.2 / b;
  const double alpha = (2.83 + 5.1 / b) * spq;
  const double lpq = std::log(p / q);
  const double m = std::floor((n + 1) * p);
  const double h = std::lgamma(m + 1) + std::lgamma(n - m + 1);
  for (;;) {
    const double u = rng.uniform() - 0.5;
    double v = rng.uniform();
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2 * a / us + b) * u + c);
    if (k < 0 || k > n) continue;
    if (us >= 0.07 && v <= vr) return k;
    v = std::log(v * alpha / (a / (us * us) + b));
    if (v <= h - std::lgamma(k + 1) - std::lgamma(n - k + 1) + (k - m) * lpq) return k;
  }
}

} // namespace

namespace dist_detail {

double logGammaDraw(double shape, Rng& rng) {
  double boost = 0.0;
  if (shape < 1.0) {
    boost = std::log(rng.uniform()) / shape;
    shape += 1.0;
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double z = rng.normal();
    double v = 1.0 + c * z;
    if (v <= 0) continue;
    v = v * v * v;
    const double u = rng.uniform();
    const double z2 = z * z;
    if (u < 1.0 - 0.0331 * z2 * z2 || std::log(u) < 0.5 * z2 + d * (1.0 - v + std::log(v)))
      return std::log(d * v) + boost;
  }
}

double sampleBinomial(double n, double p, Rng& rng) {
  if (n == 0 || p == 0) return 0;
  if (p == 1) return n;
  const bool flip = p > 0.5;
  const double pp = flip ? 1.0 - p : p;
  const double k = n * pp < 10 ? binomialInversion(n, pp, rng) : binomialBtrs(n, pp, rng);
  return flip ? n - k : k;
}

double samplePoisson(double lam, Rng& rng) {
  if (lam < 10) {
    const double f0 = std::exp(-lam);
    for (;;) {
      double u = rng.uniform();
      double f = f0;
      double k = 0;
      while (u > f && k < 1000) { // past k = 1000 only rounding residue is left: redraw
        u -= f;
        k += 1;
        f *= lam / k;
      }
      if (k < 1000) return k;
    }
  }
  const double slam = std::sqrt(lam);
  const double loglam = std::log(lam);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double u = rng.uniform() - 0.5;
    const double v = rng.uniform();
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2 * a / us + b) * u + lam + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(invalpha) - std::log(a / (us * us) + b) <=
        -lam + k * loglam - std::lgamma(k + 1))
      return k;
  }
}

double sampleDiscreteUniform(double lo, double hi, Rng& rng) {
  const uint64_t range = static_cast<uint64_t>(hi - lo) + 1; // <= 2^54 + 1, no overflow
  const uint64_t limit = UINT64_MAX - UINT64_MAX % range;    // accept below a multiple of range
  uint64_t r;
  do {
    r = rng.nextU64();
  } while (r >= limit);
  return lo + static_cast<double>(r % range);
}

double sampleCategorical(std::span<const double> probs, Rng& rng) {
  double total = 0;
  for (double p : probs)
    total += p;
  const double target = rng.uniform() * total;
  double cum = 0;
  size_t last = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    if (probs[i] <= 0) continue;
    cum += probs[i];
    last = i;
    if (target < cum) return static_cast<double>(i);
  }
  return static_cast<double>(last); // rounding put target at the very top: the last positive one
}

double standardCauchy(Rng& rng) {
  for (;;) {
    const double d = rng.normal();
    if (d != 0) return rng.normal() / d;
  }
}

} // namespace dist_detail

// ---------------------------------------------------------------- the public entry points
// Each dispatches to the kind's trait (symbolic/dist_traits.h).

std::optional<std::string> validateParams(DistKind k, std::span<const double> p) {
  const DistSignature& sig = signature(k);
  // The count from the .def; a RealArray parameter (Categorical's probs) is the whole span.
  if (sig.paramTypes[0] != DistParamType::RealArray && static_cast<int>(p.size()) != sig.nparams)
    return std::string(sig.name) + ": expects " + std::to_string(sig.nparams) + " parameter" +
           (sig.nparams == 1 ? "" : "s") + ", got " + std::to_string(p.size());
  return dispatch(k, [&](auto d) { return decltype(d)::validate(p); });
}

double sample(DistKind k, std::span<const double> p, Rng& rng) {
  return dispatch(k, [&](auto d) { return decltype(d)::sample(p, rng); });
}

double logDensity(DistKind k, std::span<const double> p, double x) {
  return dispatch(k, [&](auto d) { return logDensityOf<decltype(d)>(p, x); });
}

Support support(DistKind k, std::span<const double> p) {
  return dispatch(k, [&](auto d) { return decltype(d)::support(p); });
}

std::optional<double> mean(DistKind k, std::span<const double> p) {
  return dispatch(k, [&](auto d) { return decltype(d)::mean(p); });
}

std::optional<double> variance(DistKind k, std::span<const double> p) {
  return dispatch(k, [&](auto d) { return decltype(d)::variance(p); });
}

} // namespace chassis::symbolic
