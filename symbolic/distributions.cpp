// Sampling, log density / mass, support, moments and parameter validation for every distribution
// of spec/distributions.def (parameterisations are listed there). Sampling uses only chassis::Rng
// (no std::*_distribution) so draws are reproducible. The algorithms:
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

#include "symbolic/special.h"

#include <cmath>
#include <limits>
#include <numbers>

namespace chassis::symbolic {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMaxInt = 9007199254740992.0; // 2^53: larger doubles are not all integers
const double kLogSqrt2Pi = 0.5 * std::log(2.0 * std::numbers::pi);

bool integral(double x) {
  return std::isfinite(x) && x == std::floor(x);
}

// ---------------------------------------------------------------- validation

std::string paramName(DistKind k, int i) {
  return std::string(signature(k).paramNames[i]);
}

std::string fail(DistKind k, int i, const std::string& what, double v) {
  return std::string(signature(k).name) + ": " + paramName(k, i) + " must be " + what + ", got " +
         formatNumber(v);
}

// Each check returns the message or nullopt.
std::optional<std::string> finite(DistKind k, std::span<const double> p, int i) {
  if (!std::isfinite(p[i])) return fail(k, i, "finite", p[i]);
  return std::nullopt;
}
std::optional<std::string> positive(DistKind k, std::span<const double> p, int i) {
  if (!(p[i] > 0) || !std::isfinite(p[i])) return fail(k, i, "> 0", p[i]);
  return std::nullopt;
}
std::optional<std::string> probability(DistKind k, std::span<const double> p, int i) {
  if (!(p[i] >= 0 && p[i] <= 1)) return fail(k, i, "in [0, 1]", p[i]);
  return std::nullopt;
}
std::optional<std::string> integer(DistKind k, std::span<const double> p, int i) {
  if (!integral(p[i]) || std::abs(p[i]) > kMaxInt) return fail(k, i, "an integer", p[i]);
  return std::nullopt;
}

// ---------------------------------------------------------------- samplers

// log of a Gamma(shape, 1) draw.
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

// exp(logx) kept inside (0, inf): a draw beyond the range of doubles is returned as the nearest
// representable positive value.
double positiveFromLog(double logx) {
  const double x = std::exp(logx);
  if (!(x > 0)) return std::numeric_limits<double>::denorm_min();
  if (x == kInf) return std::numeric_limits<double>::max();
  return x;
}

double finiteOrMax(double x) {
  if (x == kInf) return std::numeric_limits<double>::max();
  if (x == -kInf) return std::numeric_limits<double>::lowest();
  return x;
}

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

} // namespace

std::optional<std::string> validateParams(DistKind k, std::span<const double> p) {
  const DistSignature& sig = signature(k);
  const std::string name(sig.name);
  if (k == DistKind::Categorical) {
    if (p.empty()) return name + ": probs must be non-empty";
    double total = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      if (!(p[i] >= 0) || !std::isfinite(p[i]))
        return name + ": probs[" + std::to_string(i) + "] must be finite and >= 0, got " +
               formatNumber(p[i]);
      total += p[i];
    }
    if (!(total > 0)) return name + ": probs must have a positive sum";
    if (!std::isfinite(total)) return name + ": probs must have a finite sum";
    return std::nullopt;
  }
  if (static_cast<int>(p.size()) != sig.nparams)
    return name + ": expects " + std::to_string(sig.nparams) + " parameter" +
           (sig.nparams == 1 ? "" : "s") + ", got " + std::to_string(p.size());
  std::optional<std::string> e;
  switch (k) {
  case DistKind::Bernoulli:
    return probability(k, p, 0);
  case DistKind::Categorical:
    return std::nullopt; // handled above
  case DistKind::Binomial:
    if ((e = integer(k, p, 0))) return e;
    if (p[0] < 0) return fail(k, 0, "an integer >= 0", p[0]);
    return probability(k, p, 1);
  case DistKind::Poisson:
    return positive(k, p, 0);
  case DistKind::DiscreteUniform:
    if ((e = integer(k, p, 0)) || (e = integer(k, p, 1))) return e;
    if (p[0] > p[1])
      return name + ": lo must be <= hi, got lo = " + formatNumber(p[0]) +
             ", hi = " + formatNumber(p[1]);
    return std::nullopt;
  case DistKind::Geometric:
    if (!(p[0] > 0 && p[0] <= 1)) return fail(k, 0, "in (0, 1]", p[0]);
    return std::nullopt;
  case DistKind::Uniform:
    if ((e = finite(k, p, 0)) || (e = finite(k, p, 1))) return e;
    if (!(p[0] < p[1]))
      return name + ": lo must be < hi, got lo = " + formatNumber(p[0]) +
             ", hi = " + formatNumber(p[1]);
    if (!std::isfinite(p[1] - p[0]))
      return name + ": hi - lo must be finite, got lo = " + formatNumber(p[0]) +
             ", hi = " + formatNumber(p[1]);
    return std::nullopt;
  case DistKind::Normal:
  case DistKind::LogNormal:
  case DistKind::Cauchy:
    if ((e = finite(k, p, 0))) return e;
    return positive(k, p, 1);
  case DistKind::HalfNormal:
  case DistKind::HalfCauchy:
  case DistKind::Exponential:
    return positive(k, p, 0);
  case DistKind::StudentT:
    if ((e = positive(k, p, 0)) || (e = finite(k, p, 1))) return e;
    return positive(k, p, 2);
  case DistKind::Gamma:
  case DistKind::Beta:
    if ((e = positive(k, p, 0))) return e;
    return positive(k, p, 1);
  case DistKind::Flat:
    return std::nullopt;
  case DistKind::FlatLower:
  case DistKind::FlatUpper:
    return finite(k, p, 0);
  case DistKind::FlatInterval:
    if ((e = finite(k, p, 0)) || (e = finite(k, p, 1))) return e;
    if (!(p[0] < p[1]))
      return name + ": lower must be < upper, got lower = " + formatNumber(p[0]) +
             ", upper = " + formatNumber(p[1]);
    return std::nullopt;
  }
  return name + ": unknown distribution";
}

double sample(DistKind k, std::span<const double> p, Rng& rng) {
  switch (k) {
  case DistKind::Bernoulli:
    return rng.uniform() < p[0] ? 1.0 : 0.0;
  case DistKind::Categorical:
    return sampleCategorical(p, rng);
  case DistKind::Binomial:
    return sampleBinomial(p[0], p[1], rng);
  case DistKind::Poisson:
    return samplePoisson(p[0], rng);
  case DistKind::DiscreteUniform:
    return sampleDiscreteUniform(p[0], p[1], rng);
  case DistKind::Geometric:
    if (p[0] == 1) return 0;
    return std::floor(std::log(rng.uniform()) / std::log1p(-p[0]));
  case DistKind::Uniform: {
    const double x = p[0] + (p[1] - p[0]) * rng.uniform();
    return std::min(x, p[1]);
  }
  case DistKind::Normal:
    return finiteOrMax(p[0] + p[1] * rng.normal());
  case DistKind::HalfNormal:
    return finiteOrMax(p[0] * std::abs(rng.normal()));
  case DistKind::LogNormal:
    return positiveFromLog(p[0] + p[1] * rng.normal());
  case DistKind::Cauchy:
    return finiteOrMax(p[0] + p[1] * standardCauchy(rng));
  case DistKind::HalfCauchy:
    return finiteOrMax(p[0] * std::abs(standardCauchy(rng)));
  case DistKind::StudentT: {
    // z / sqrt(V / nu) with V = 2 G(nu/2), the scale factor from logs (V may underflow).
    const double logV = std::log(2.0) + logGammaDraw(0.5 * p[0], rng);
    const double z = rng.normal();
    return finiteOrMax(p[1] + p[2] * z * std::exp(0.5 * (std::log(p[0]) - logV)));
  }
  case DistKind::Exponential:
    return finiteOrMax(-std::log(rng.uniform()) / p[0]);
  case DistKind::Gamma:
    return positiveFromLog(logGammaDraw(p[0], rng) - std::log(p[1]));
  case DistKind::Beta: {
    const double lx = logGammaDraw(p[0], rng);
    const double ly = logGammaDraw(p[1], rng);
    const double x = 1.0 / (1.0 + std::exp(ly - lx));
    if (x <= 0) return std::numeric_limits<double>::denorm_min();
    if (x >= 1) return std::nextafter(1.0, 0.0);
    return x;
  }
  case DistKind::Flat:
  case DistKind::FlatLower:
  case DistKind::FlatUpper:
  case DistKind::FlatInterval:
    break; // nothing to draw from (isFlat): the callers refuse first
  }
  return kNaN;
}

double logDensity(DistKind k, std::span<const double> p, double x) {
  if (std::isnan(x)) return -kInf;
  if (signature(k).discrete && !integral(x)) return -kInf;
  switch (k) {
  case DistKind::Bernoulli:
    if (x == 1) return std::log(p[0]);
    if (x == 0) return std::log1p(-p[0]);
    return -kInf;
  case DistKind::Categorical: {
    if (x < 0 || x >= static_cast<double>(p.size())) return -kInf;
    double total = 0;
    for (double q : p)
      total += q;
    return std::log(p[static_cast<size_t>(x)]) - std::log(total);
  }
  case DistKind::Binomial: {
    const double n = p[0], q = p[1];
    if (x < 0 || x > n) return -kInf;
    if (q == 0) return x == 0 ? 0.0 : -kInf;
    if (q == 1) return x == n ? 0.0 : -kInf;
    return logChoose(n, x) + x * std::log(q) + (n - x) * std::log1p(-q);
  }
  case DistKind::Poisson:
    if (x < 0) return -kInf;
    return x * std::log(p[0]) - p[0] - std::lgamma(x + 1);
  case DistKind::DiscreteUniform:
    if (x < p[0] || x > p[1]) return -kInf;
    return -std::log(p[1] - p[0] + 1);
  case DistKind::Geometric:
    if (x < 0) return -kInf;
    if (p[0] == 1) return x == 0 ? 0.0 : -kInf;
    return std::log(p[0]) + x * std::log1p(-p[0]);
  case DistKind::Uniform:
    if (x < p[0] || x > p[1]) return -kInf;
    return -std::log(p[1] - p[0]);
  case DistKind::Normal: {
    const double z = (x - p[0]) / p[1];
    return -0.5 * z * z - std::log(p[1]) - kLogSqrt2Pi;
  }
  case DistKind::HalfNormal: {
    if (x < 0) return -kInf;
    const double z = x / p[0];
    return std::log(2.0) - 0.5 * z * z - std::log(p[0]) - kLogSqrt2Pi;
  }
  case DistKind::LogNormal: {
    if (x <= 0) return -kInf;
    const double lx = std::log(x);
    const double z = (lx - p[0]) / p[1];
    return -0.5 * z * z - std::log(p[1]) - kLogSqrt2Pi - lx;
  }
  case DistKind::Cauchy: {
    const double z = (x - p[0]) / p[1];
    return -std::log(std::numbers::pi * p[1]) - std::log1p(z * z);
  }
  case DistKind::HalfCauchy: {
    if (x < 0) return -kInf;
    const double z = x / p[0];
    return std::log(2.0 / (std::numbers::pi * p[0])) - std::log1p(z * z);
  }
  case DistKind::StudentT: {
    const double nu = p[0];
    const double z = (x - p[1]) / p[2];
    return std::lgamma(0.5 * (nu + 1)) - std::lgamma(0.5 * nu) -
           0.5 * std::log(nu * std::numbers::pi) - std::log(p[2]) -
           0.5 * (nu + 1) * std::log1p(z * z / nu);
  }
  case DistKind::Exponential:
    if (x < 0) return -kInf;
    return std::log(p[0]) - p[0] * x;
  case DistKind::Gamma: {
    const double a = p[0], rate = p[1];
    if (x <= 0 || x == kInf) return -kInf;
    return a * std::log(rate) - std::lgamma(a) + (a - 1) * std::log(x) - rate * x;
  }
  case DistKind::Beta: {
    const double a = p[0], b = p[1];
    if (x <= 0 || x >= 1) return -kInf;
    return (a - 1) * std::log(x) + (b - 1) * std::log1p(-x) - logBeta(a, b);
  }
  // Flat priors: density 1 on the (closed) support, unnormalised.
  case DistKind::Flat:
    return std::isfinite(x) ? 0.0 : -kInf;
  case DistKind::FlatLower:
    return x >= p[0] && x < kInf ? 0.0 : -kInf;
  case DistKind::FlatUpper:
    return x <= p[0] && x > -kInf ? 0.0 : -kInf;
  case DistKind::FlatInterval:
    return x >= p[0] && x <= p[1] ? 0.0 : -kInf;
  }
  return -kInf;
}

Support support(DistKind k, std::span<const double> p) {
  switch (k) {
  case DistKind::Bernoulli:
    return {0, 1, true};
  case DistKind::Categorical:
    return {0, static_cast<double>(p.size()) - 1, true};
  case DistKind::Binomial:
    return {0, p[0], true};
  case DistKind::Poisson:
  case DistKind::Geometric:
    return {0, kInf, true};
  case DistKind::DiscreteUniform:
    return {p[0], p[1], true};
  case DistKind::Uniform:
    return {p[0], p[1], false};
  case DistKind::Normal:
  case DistKind::Cauchy:
  case DistKind::StudentT:
    return {-kInf, kInf, false};
  case DistKind::HalfNormal:
  case DistKind::LogNormal:
  case DistKind::HalfCauchy:
  case DistKind::Exponential:
  case DistKind::Gamma:
    return {0, kInf, false};
  case DistKind::Beta:
    return {0, 1, false};
  case DistKind::Flat:
    return {-kInf, kInf, false};
  case DistKind::FlatLower:
    return {p[0], kInf, false};
  case DistKind::FlatUpper:
    return {-kInf, p[0], false};
  case DistKind::FlatInterval:
    return {p[0], p[1], false};
  }
  return {kNaN, kNaN, false};
}

std::optional<double> mean(DistKind k, std::span<const double> p) {
  switch (k) {
  case DistKind::Bernoulli:
    return p[0];
  case DistKind::Categorical: {
    double total = 0, m = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      total += p[i];
      m += static_cast<double>(i) * p[i];
    }
    return m / total;
  }
  case DistKind::Binomial:
    return p[0] * p[1];
  case DistKind::Poisson:
    return p[0];
  case DistKind::DiscreteUniform:
  case DistKind::Uniform:
    return 0.5 * (p[0] + p[1]);
  case DistKind::Geometric:
    return (1 - p[0]) / p[0];
  case DistKind::Normal:
    return p[0];
  case DistKind::HalfNormal:
    return p[0] * std::sqrt(2.0 / std::numbers::pi);
  case DistKind::LogNormal:
    return std::exp(p[0] + 0.5 * p[1] * p[1]);
  case DistKind::Cauchy:
  case DistKind::HalfCauchy:
    return std::nullopt;
  case DistKind::StudentT:
    if (p[0] <= 1) return std::nullopt;
    return p[1];
  case DistKind::Exponential:
    return 1 / p[0];
  case DistKind::Gamma:
    return p[0] / p[1];
  case DistKind::Beta:
    return p[0] / (p[0] + p[1]);
  case DistKind::Flat:
  case DistKind::FlatLower:
  case DistKind::FlatUpper:
  case DistKind::FlatInterval:
    return std::nullopt; // not a probability distribution
  }
  return std::nullopt;
}

std::optional<double> variance(DistKind k, std::span<const double> p) {
  switch (k) {
  case DistKind::Bernoulli:
    return p[0] * (1 - p[0]);
  case DistKind::Categorical: {
    const double m = *mean(k, p);
    double total = 0, v = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      total += p[i];
      v += (static_cast<double>(i) - m) * (static_cast<double>(i) - m) * p[i];
    }
    return v / total;
  }
  case DistKind::Binomial:
    return p[0] * p[1] * (1 - p[1]);
  case DistKind::Poisson:
    return p[0];
  case DistKind::DiscreteUniform: {
    const double n = p[1] - p[0] + 1;
    return (n * n - 1) / 12;
  }
  case DistKind::Geometric:
    return (1 - p[0]) / (p[0] * p[0]);
  case DistKind::Uniform:
    return (p[1] - p[0]) * (p[1] - p[0]) / 12;
  case DistKind::Normal:
    return p[1] * p[1];
  case DistKind::HalfNormal:
    return p[0] * p[0] * (1 - 2 / std::numbers::pi);
  case DistKind::LogNormal: {
    const double s2 = p[1] * p[1];
    return std::expm1(s2) * std::exp(2 * p[0] + s2);
  }
  case DistKind::Cauchy:
  case DistKind::HalfCauchy:
    return std::nullopt;
  case DistKind::StudentT:
    if (p[0] <= 1) return std::nullopt;
    if (p[0] <= 2) return kInf;
    return p[2] * p[2] * p[0] / (p[0] - 2);
  case DistKind::Exponential:
    return 1 / (p[0] * p[0]);
  case DistKind::Gamma:
    return p[0] / (p[1] * p[1]);
  case DistKind::Beta: {
    const double s = p[0] + p[1];
    return p[0] * p[1] / (s * s * (s + 1));
  }
  case DistKind::Flat:
  case DistKind::FlatLower:
  case DistKind::FlatUpper:
  case DistKind::FlatInterval:
    return std::nullopt; // not a probability distribution
  }
  return std::nullopt;
}

} // namespace chassis::symbolic
