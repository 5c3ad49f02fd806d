// One trait per distribution of spec/distributions.def: everything the runtime, the gradient and
// the verifier know about a distribution, in one place.
//
// Design. `template <DistKind K> struct Dist;` is specialised below once per distribution (the
// primary template is empty). Each specialisation holds, as static members:
//
//   validate(p)          why the parameters are invalid ("Normal: sigma must be > 0, got -1"), or
//                        nullopt. The parameter count is checked before, by dispatch, from the
//                        .def (every kind but Categorical, whose one parameter is a real array).
//   sample(p, rng)       a draw for valid p, by the algorithms listed in distributions.cpp's
//                        header; the calls on the generator are the runtime's (sample streams at a
//                        seed are part of the behaviour and are checked by the tests).
//   logDensity(p, x)     log density / mass at x; x is not NaN and, for a discrete kind, integral
//                        (logDensityOf checks both first); -infinity outside the support.
//   gradient(p, x, dx, dp)  d logDensity / dx and / dp_i, called only where logDensity is finite;
//                        dx and dp arrive zeroed.
//   support(p), mean(p), variance(p)   as symbolic/distributions.h.
//   transform(p)         the unconstraining transform of the support (symbolic/transforms.h);
//   kLowerParam, kUpperParam  which parameter is the support's lower / upper bound, or -1 where
//                        the bound does not depend on the parameters (support()'s is then the
//                        same for any valid ones) or, for a real-array parameter (Categorical),
//                        depends on its length only. The gradient recorder (ad.cpp) takes the
//                        transform's bounds from them, so that it differentiates through a bound
//                        that depends on other choices (Uniform(0, tau)); the verifier's encoder
//                        (ir_encoder.cpp) writes the support's constraint with them.
//   kCellMethod          whether the verifier's certified cell method (verifier/prob_bounds.cpp)
//                        handles the kind; if so also
//     cellBox(p)         the initial box [lo, hi] holding all but a negligible tail,
//     intervalMass(p, a, b)       P(a <= X <= b) in float64 (the CDF difference, tail side chosen
//                        for accuracy), and
//     intervalMassLowerBound(p, a, b)  a certified lower bound of it (outward rounding, see
//                        dist_detail's enclosures);
//   a kind without the cell method gets prob_bounds' located "not supported by the cell method".
//
// The back ends do not switch on DistKind: they call dispatch(k, f), which calls
// f(Dist<K>{}) for the run-time k (a switch generated from the .def, inlined, so a call costs what
// the hand-written switches cost). A distribution added to the .def without its specialisation,
// or with one missing a member, fails the static_assert at the end of this file, naming it
// (tests/symbolic/dist_traits_compile/check.cmake shows it).
//
// Adding a distribution: one CHASSIS_DIST line in spec/distributions.def and one Dist<>
// specialisation here, and, where the new kind needs them, the places that still switch on
// DistKind (a `default:` or an if-chain there, so the build does not force them):
//   spec/lower.cpp              lpdf(D(params), x) written as IR operators per kind, and
//   spec/check_expressions.cpp  its "needs a constant" checks (spec/ is below symbolic/ in the
//                               layering, so it cannot call these traits; the parameter typing
//                               comes from the .def already);
//   verifier/properties.cpp     positiveMass: the z3 form of "the value has positive mass" for
//                               Bernoulli, Binomial, Categorical (z3 terms, not doubles);
//   symbolic/discrete_model.cpp exact inference refuses Poisson and Geometric by name;
//   symbolic/ad.cpp             the tape's inline Normal term and its fused Normal-linear and
//                               Bernoulli-logit nodes (specialisations of the tape, whose layout
//                               is not this file's; the generic term calls the trait);
//   codegen/codegen.cpp, tape_compiler.cpp  the LLVM back end's inline Normal and Bernoulli
//                               (others call the runtime, hence the traits);
//   spec/dist_kind.h            isFlat / flatSourceForm (the flat priors' source spelling).
#pragma once

#include "spec/dist_kind.h"
#include "spec/rng.h"
#include "symbolic/distributions.h"
#include "symbolic/special.h"
#include "symbolic/transforms.h"

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <numbers>
#include <optional>
#include <span>
#include <string>
#include <utility>

namespace chassis::symbolic {

/// psi(x), defined in ad.cpp (declared in ad.h).
double digamma(double x);

template <DistKind K>
struct Dist {}; // specialised for every distribution below

namespace dist_detail {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kMaxInt = 9007199254740992.0; // 2^53: larger doubles are not all integers
inline const double kLogSqrt2Pi = 0.5 * std::log(2.0 * std::numbers::pi);

inline bool integral(double x) {
  return std::isfinite(x) && x == std::floor(x);
}

// ---------------------------------------------------------------- validation

inline std::string fail(DistKind k, int i, const std::string& what, double v) {
  return std::string(signature(k).name) + ": " + std::string(signature(k).paramNames[i]) +
         " must be " + what + ", got " + formatNumber(v);
}
inline std::string failPair(DistKind k, const char* rel, double lo, double hi) {
  const DistSignature& s = signature(k);
  const std::string a(s.paramNames[0]), b(s.paramNames[1]);
  return std::string(s.name) + ": " + a + " must be " + rel + " " + b + ", got " + a + " = " +
         formatNumber(lo) + ", " + b + " = " + formatNumber(hi);
}

// Each check returns the message or nullopt.
inline std::optional<std::string> finite(DistKind k, std::span<const double> p, int i) {
  if (!std::isfinite(p[i])) return fail(k, i, "finite", p[i]);
  return std::nullopt;
}
inline std::optional<std::string> positive(DistKind k, std::span<const double> p, int i) {
  if (!(p[i] > 0) || !std::isfinite(p[i])) return fail(k, i, "> 0", p[i]);
  return std::nullopt;
}
inline std::optional<std::string> probability(DistKind k, std::span<const double> p, int i) {
  if (!(p[i] >= 0 && p[i] <= 1)) return fail(k, i, "in [0, 1]", p[i]);
  return std::nullopt;
}
inline std::optional<std::string> integer(DistKind k, std::span<const double> p, int i) {
  if (!integral(p[i]) || std::abs(p[i]) > kMaxInt) return fail(k, i, "an integer", p[i]);
  return std::nullopt;
}
/// A location-scale pair (finite p[0], positive p[1]).
inline std::optional<std::string> locationScale(DistKind k, std::span<const double> p) {
  if (auto e = finite(k, p, 0)) return e;
  return positive(k, p, 1);
}
/// Two positive parameters.
inline std::optional<std::string> twoPositive(DistKind k, std::span<const double> p) {
  if (auto e = positive(k, p, 0)) return e;
  return positive(k, p, 1);
}

// ---------------------------------------------------------------- sampling helpers
// (defined in distributions.cpp: the algorithms are described there)

/// log of a Gamma(shape, 1) draw.
double logGammaDraw(double shape, Rng& rng);
double sampleBinomial(double n, double p, Rng& rng);
double samplePoisson(double lam, Rng& rng);
double sampleDiscreteUniform(double lo, double hi, Rng& rng);
double sampleCategorical(std::span<const double> probs, Rng& rng);
double standardCauchy(Rng& rng);

/// exp(logx) kept inside (0, inf): a draw beyond the range of doubles is returned as the nearest
/// representable positive value.
inline double positiveFromLog(double logx) {
  const double x = std::exp(logx);
  if (!(x > 0)) return std::numeric_limits<double>::denorm_min();
  if (x == kInf) return std::numeric_limits<double>::max();
  return x;
}

inline double finiteOrMax(double x) {
  if (x == kInf) return std::numeric_limits<double>::max();
  if (x == -kInf) return std::numeric_limits<double>::lowest();
  return x;
}

// ---------------------------------------------------------------- certified enclosures
// A cell's mass for the verifier must be a LOWER bound of its real mass. The float64 CDF
// differences of intervalMass are not: erfc(a) - erfc(b) on a small cell near the mean subtracts
// two numbers near 1, each within a few ulps (absolute ~1e-16), from a true difference that can be
// far smaller, so a relative widening of the result bounds nothing. Instead every float64 step is
// rounded outward with std::nextafter: the arguments (x - mu) / (sigma sqrt 2) as an interval,
// each library value (erfc, exp) widened by kLibmUlps ulps on each side, and every subtraction,
// product and sum of masses rounded towards the side that keeps the bound.
//
// kLibmUlps: glibc's documented maximum errors (libm-test-ulps, x86_64 and aarch64) are 5 ulps
// for double erfc and 1 ulp for exp; 8 leaves a margin. A libm less accurate than that would
// void the bound.
inline constexpr int kLibmUlps = 8;

inline double roundDown(double v, int steps = 1) {
  for (int i = 0; i < steps; ++i)
    v = std::nextafter(v, -kInf);
  return v;
}
inline double roundUp(double v, int steps = 1) {
  for (int i = 0; i < steps; ++i)
    v = std::nextafter(v, kInf);
  return v;
}

/// An interval containing erfc((x - y) / (scale sqrt 2)) for x >= y, scale > 0.
inline std::pair<double, double> erfcEnclosure(double x, double y, double scale) {
  double n = x - y;
  double nLo = std::max(0.0, roundDown(n)), nHi = roundUp(n);
  double s = scale * std::sqrt(2.0); // sqrt is correctly rounded; the product rounds once more
  double sLo = roundDown(s, 2), sHi = roundUp(s, 2);
  double zLo = std::max(0.0, roundDown(nLo / sHi)), zHi = roundUp(nHi / sLo);
  // erfc is decreasing: its largest value at zLo, its smallest at zHi.
  double eHi = std::min(2.0, roundUp(std::erfc(zLo), kLibmUlps));
  double eLo = std::max(0.0, roundDown(std::erfc(zHi), kLibmUlps));
  return {eLo, eHi};
}

/// An interval containing exp(-rate * t) for t >= 0, rate > 0.
inline std::pair<double, double> expDecayEnclosure(double rate, double t) {
  double p = rate * t;
  double pLo = std::max(0.0, roundDown(p)), pHi = roundUp(p);
  return {std::max(0.0, roundDown(std::exp(-pHi), kLibmUlps)),
          std::min(1.0, roundUp(std::exp(-pLo), kLibmUlps))};
}

/// A lower bound of a - b (a, b >= 0), never negative.
inline double diffDown(double a, double b) {
  return std::max(0.0, roundDown(a - b));
}

/// The verifier's cell method does not handle the kind (prob_bounds says so, located).
struct NoCellMethod {
  static constexpr bool kCellMethod = false;
};

/// The support's bounds do not depend on the parameters (or there are none).
struct ConstantBounds {
  static constexpr int kLowerParam = -1, kUpperParam = -1;
};

} // namespace dist_detail

// =============================================================================================
// Discrete distributions

template <>
struct Dist<DistKind::Bernoulli> : dist_detail::NoCellMethod, dist_detail::ConstantBounds {
  static constexpr DistKind K = DistKind::Bernoulli;
  static std::optional<std::string> validate(std::span<const double> p) {
    return dist_detail::probability(K, p, 0);
  }
  static double sample(std::span<const double> p, Rng& rng) {
    return rng.uniform() < p[0] ? 1.0 : 0.0;
  }
  static double logDensity(std::span<const double> p, double x) {
    if (x == 1) return std::log(p[0]);
    if (x == 0) return std::log1p(-p[0]);
    return -dist_detail::kInf;
  }
  static void gradient(std::span<const double> p, double x, double&, std::span<double> dp) {
    dp[0] = x == 1 ? 1 / p[0] : -1 / (1 - p[0]);
  }
  static Support support(std::span<const double>) { return {0, 1, true}; }
  static std::optional<double> mean(std::span<const double> p) { return p[0]; }
  static std::optional<double> variance(std::span<const double> p) { return p[0] * (1 - p[0]); }
  static Transform transform(std::span<const double>) { return {}; }
};

template <>
struct Dist<DistKind::Categorical> : dist_detail::NoCellMethod, dist_detail::ConstantBounds {
  static constexpr DistKind K = DistKind::Categorical;
  static std::optional<std::string> validate(std::span<const double> p) {
    const std::string name(signature(K).name);
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
  static double sample(std::span<const double> p, Rng& rng) {
    return dist_detail::sampleCategorical(p, rng);
  }
  static double logDensity(std::span<const double> p, double x) {
    if (x < 0 || x >= static_cast<double>(p.size())) return -dist_detail::kInf;
    double total = 0;
    for (double q : p)
      total += q;
    return std::log(p[static_cast<size_t>(x)]) - std::log(total);
  }
  static void gradient(std::span<const double> p, double x, double&, std::span<double> dp) {
    double total = 0;
    for (double q : p)
      total += q;
    for (size_t j = 0; j < p.size(); ++j)
      dp[j] = -1 / total;
    dp[size_t(x)] += 1 / p[size_t(x)];
  }
  static Support support(std::span<const double> p) {
    return {0, static_cast<double>(p.size()) - 1, true};
  }
  static std::optional<double> mean(std::span<const double> p) {
    double total = 0, m = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      total += p[i];
      m += static_cast<double>(i) * p[i];
    }
    return m / total;
  }
  static std::optional<double> variance(std::span<const double> p) {
    const double m = *mean(p);
    double total = 0, v = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      total += p[i];
      v += (static_cast<double>(i) - m) * (static_cast<double>(i) - m) * p[i];
    }
    return v / total;
  }
  static Transform transform(std::span<const double>) { return {}; }
};

template <>
struct Dist<DistKind::Binomial> : dist_detail::NoCellMethod {
  static constexpr DistKind K = DistKind::Binomial;
  static constexpr int kLowerParam = -1, kUpperParam = 0; // {0..n}
  static std::optional<std::string> validate(std::span<const double> p) {
    if (auto e = dist_detail::integer(K, p, 0)) return e;
    if (p[0] < 0) return dist_detail::fail(K, 0, "an integer >= 0", p[0]);
    return dist_detail::probability(K, p, 1);
  }
  static double sample(std::span<const double> p, Rng& rng) {
    return dist_detail::sampleBinomial(p[0], p[1], rng);
  }
  static double logDensity(std::span<const double> p, double x) {
    const double n = p[0], q = p[1];
    if (x < 0 || x > n) return -dist_detail::kInf;
    if (q == 0) return x == 0 ? 0.0 : -dist_detail::kInf;
    if (q == 1) return x == n ? 0.0 : -dist_detail::kInf;
    return logChoose(n, x) + x * std::log(q) + (n - x) * std::log1p(-q);
  }
  static void gradient(std::span<const double> p, double x, double&, std::span<double> dp) {
    double n = p[0], q = p[1];
    if (q > 0 && q < 1) dp[1] = x / q - (n - x) / (1 - q);
  }
  static Support support(std::span<const double> p) { return {0, p[0], true}; }
  static std::optional<double> mean(std::span<const double> p) { return p[0] * p[1]; }
  static std::optional<double> variance(std::span<const double> p) {
    return p[0] * p[1] * (1 - p[1]);
  }
  static Transform transform(std::span<const double>) { return {}; }
};

template <>
struct Dist<DistKind::Poisson> : dist_detail::NoCellMethod, dist_detail::ConstantBounds {
  static constexpr DistKind K = DistKind::Poisson;
  static std::optional<std::string> validate(std::span<const double> p) {
    return dist_detail::positive(K, p, 0);
  }
  static double sample(std::span<const double> p, Rng& rng) {
    return dist_detail::samplePoisson(p[0], rng);
  }
  static double logDensity(std::span<const double> p, double x) {
    if (x < 0) return -dist_detail::kInf;
    return x * std::log(p[0]) - p[0] - std::lgamma(x + 1);
  }
  static void gradient(std::span<const double> p, double x, double&, std::span<double> dp) {
    dp[0] = x / p[0] - 1;
  }
  static Support support(std::span<const double>) { return {0, dist_detail::kInf, true}; }
  static std::optional<double> mean(std::span<const double> p) { return p[0]; }
  static std::optional<double> variance(std::span<const double> p) { return p[0]; }
  static Transform transform(std::span<const double>) { return {}; }
};

template <>
struct Dist<DistKind::DiscreteUniform> : dist_detail::NoCellMethod {
  static constexpr DistKind K = DistKind::DiscreteUniform;
  static constexpr int kLowerParam = 0, kUpperParam = 1;
  static std::optional<std::string> validate(std::span<const double> p) {
    if (auto e = dist_detail::integer(K, p, 0)) return e;
    if (auto e = dist_detail::integer(K, p, 1)) return e;
    if (p[0] > p[1]) return dist_detail::failPair(K, "<=", p[0], p[1]);
    return std::nullopt;
  }
  static double sample(std::span<const double> p, Rng& rng) {
    return dist_detail::sampleDiscreteUniform(p[0], p[1], rng);
  }
  static double logDensity(std::span<const double> p, double x) {
    if (x < p[0] || x > p[1]) return -dist_detail::kInf;
    return -std::log(p[1] - p[0] + 1);
  }
  static void gradient(std::span<const double>, double, double&, std::span<double>) {}
  static Support support(std::span<const double> p) { return {p[0], p[1], true}; }
  static std::optional<double> mean(std::span<const double> p) { return 0.5 * (p[0] + p[1]); }
  static std::optional<double> variance(std::span<const double> p) {
    const double n = p[1] - p[0] + 1;
    return (n * n - 1) / 12;
  }
  static Transform transform(std::span<const double>) { return {}; }
};

template <>
struct Dist<DistKind::Geometric> : dist_detail::NoCellMethod, dist_detail::ConstantBounds {
  static constexpr DistKind K = DistKind::Geometric;
  static std::optional<std::string> validate(std::span<const double> p) {
    if (!(p[0] > 0 && p[0] <= 1)) return dist_detail::fail(K, 0, "in (0, 1]", p[0]);
    return std::nullopt;
  }
  static double sample(std::span<const double> p, Rng& rng) {
    if (p[0] == 1) return 0;
    return std::floor(std::log(rng.uniform()) / std::log1p(-p[0]));
  }
  static double logDensity(std::span<const double> p, double x) {
    if (x < 0) return -dist_detail::kInf;
    if (p[0] == 1) return x == 0 ? 0.0 : -dist_detail::kInf;
    return std::log(p[0]) + x * std::log1p(-p[0]);
  }
  static void gradient(std::span<const double> p, double x, double&, std::span<double> dp) {
    if (p[0] < 1) dp[0] = 1 / p[0] - x / (1 - p[0]);
  }
  static Support support(std::span<const double>) { return {0, dist_detail::kInf, true}; }
  static std::optional<double> mean(std::span<const double> p) { return (1 - p[0]) / p[0]; }
  static std::optional<double> variance(std::span<const double> p) {
    return (1 - p[0]) / (p[0] * p[0]);
  }
  static Transform transform(std::span<const double>) { return {}; }
};

// =============================================================================================
// Continuous distributions

template <>
struct Dist<DistKind::Uniform> {
  static constexpr DistKind K = DistKind::Uniform;
  static std::optional<std::string> validate(std::span<const double> p) {
    if (auto e = dist_detail::finite(K, p, 0)) return e;
    if (auto e = dist_detail::finite(K, p, 1)) return e;
    if (!(p[0] < p[1])) return dist_detail::failPair(K, "<", p[0], p[1]);
    if (!std::isfinite(p[1] - p[0]))
      return std::string(signature(K).name) + ": hi - lo must be finite, got lo = " +
             formatNumber(p[0]) + ", hi = " + formatNumber(p[1]);
    return std::nullopt;
  }
  static double sample(std::span<const double> p, Rng& rng) {
    const double x = p[0] + (p[1] - p[0]) * rng.uniform();
    return std::min(x, p[1]);
  }
  static double logDensity(std::span<const double> p, double x) {
    if (x < p[0] || x > p[1]) return -dist_detail::kInf;
    return -std::log(p[1] - p[0]);
  }
  static void gradient(std::span<const double> p, double, double&, std::span<double> dp) {
    double w = p[1] - p[0];
    dp[0] = 1 / w;
    dp[1] = -1 / w;
  }
  static Support support(std::span<const double> p) { return {p[0], p[1], false}; }
  static std::optional<double> mean(std::span<const double> p) { return 0.5 * (p[0] + p[1]); }
  static std::optional<double> variance(std::span<const double> p) {
    return (p[1] - p[0]) * (p[1] - p[0]) / 12;
  }
  static Transform transform(std::span<const double> p) {
    return {TransformKind::Interval, p[0], p[1]};
  }
  static constexpr int kLowerParam = 0, kUpperParam = 1;
  static constexpr bool kCellMethod = true;
  static std::pair<double, double> cellBox(std::span<const double> p) { return {p[0], p[1]}; }
  static double intervalMass(std::span<const double> p, double a, double b) {
    double w = p[1] - p[0];
    return std::max(0.0, (std::min(b, p[1]) - std::max(a, p[0])) / w);
  }
  static double intervalMassLowerBound(std::span<const double> p, double a, double b) {
    using namespace dist_detail;
    double l = std::max(a, p[0]), h = std::min(b, p[1]);
    if (!(l < h)) return 0;
    double w = roundUp(p[1] - p[0]);
    return std::min(1.0, std::max(0.0, roundDown(diffDown(h, l) / w)));
  }
};

template <>
struct Dist<DistKind::Normal> : dist_detail::ConstantBounds {
  static constexpr DistKind K = DistKind::Normal;
  static std::optional<std::string> validate(std::span<const double> p) {
    return dist_detail::locationScale(K, p);
  }
  static double sample(std::span<const double> p, Rng& rng) {
    return dist_detail::finiteOrMax(p[0] + p[1] * rng.normalInline());
  }
  static double logDensity(std::span<const double> p, double x) {
    const double z = (x - p[0]) / p[1];
    return -0.5 * z * z - std::log(p[1]) - dist_detail::kLogSqrt2Pi;
  }
  static void gradient(std::span<const double> p, double x, double& dx, std::span<double> dp) {
    double s = p[1], z = (x - p[0]) / s;
    dx = -z / s;
    dp[0] = z / s;
    dp[1] = (z * z - 1) / s;
  }
  static Support support(std::span<const double>) {
    return {-dist_detail::kInf, dist_detail::kInf, false};
  }
  static std::optional<double> mean(std::span<const double> p) { return p[0]; }
  static std::optional<double> variance(std::span<const double> p) { return p[1] * p[1]; }
  static Transform transform(std::span<const double>) { return {}; }
  static constexpr bool kCellMethod = true;
  static std::pair<double, double> cellBox(std::span<const double> p) {
    return {p[0] - 12 * p[1], p[0] + 12 * p[1]};
  }
  static double intervalMass(std::span<const double> p, double a, double b) {
    double mu = p[0], s = p[1] * std::sqrt(2.0);
    if (a >= mu) return 0.5 * (std::erfc((a - mu) / s) - std::erfc((b - mu) / s));
    if (b <= mu) return 0.5 * (std::erfc((mu - b) / s) - std::erfc((mu - a) / s));
    return 1 - 0.5 * std::erfc((b - mu) / s) - 0.5 * std::erfc((mu - a) / s);
  }
  static double intervalMassLowerBound(std::span<const double> p, double a, double b) {
    using namespace dist_detail;
    double mu = p[0], sigma = p[1];
    double m;
    if (a >= mu) {
      m = diffDown(erfcEnclosure(a, mu, sigma).first, erfcEnclosure(b, mu, sigma).second);
    } else if (b <= mu) {
      m = diffDown(erfcEnclosure(mu, b, sigma).first, erfcEnclosure(mu, a, sigma).second);
    } else {
      // 1 - erfc(b') / 2 - erfc(a') / 2, each term rounded up before it is subtracted.
      double t1 = roundUp(0.5 * erfcEnclosure(b, mu, sigma).second);
      double t2 = roundUp(0.5 * erfcEnclosure(mu, a, sigma).second);
      return std::min(1.0, diffDown(diffDown(1.0, t1), t2));
    }
    return std::min(1.0, std::max(0.0, roundDown(0.5 * m)));
  }
};

template <>
struct Dist<DistKind::HalfNormal> : dist_detail::ConstantBounds {
  static constexpr DistKind K = DistKind::HalfNormal;
  static std::optional<std::string> validate(std::span<const double> p) {
    return dist_detail::positive(K, p, 0);
  }
  static double sample(std::span<const double> p, Rng& rng) {
    return dist_detail::finiteOrMax(p[0] * std::abs(rng.normal()));
  }
  static double logDensity(std::span<const double> p, double x) {
    if (x < 0) return -dist_detail::kInf;
    const double z = x / p[0];
    return std::log(2.0) - 0.5 * z * z - std::log(p[0]) - dist_detail::kLogSqrt2Pi;
  }
  static void gradient(std::span<const double> p, double x, double& dx, std::span<double> dp) {
    double s = p[0], z = x / s;
    dx = -z / s;
    dp[0] = (z * z - 1) / s;
  }
  static Support support(std::span<const double>) { return {0, dist_detail::kInf, false}; }
  static std::optional<double> mean(std::span<const double> p) {
    return p[0] * std::sqrt(2.0 / std::numbers::pi);
  }
  static std::optional<double> variance(std::span<const double> p) {
    return p[0] * p[0] * (1 - 2 / std::numbers::pi);
  }
  static Transform transform(std::span<const double>) {
    return {TransformKind::LowerBound, 0.0, 0.0};
  }
  static constexpr bool kCellMethod = true;
  static std::pair<double, double> cellBox(std::span<const double> p) { return {0, 12 * p[0]}; }
  static double intervalMass(std::span<const double> p, double a, double b) {
    double s = p[0] * std::sqrt(2.0);
    return std::erfc(std::max(a, 0.0) / s) - std::erfc(std::max(b, 0.0) / s);
  }
  static double intervalMassLowerBound(std::span<const double> p, double a, double b) {
    using namespace dist_detail;
    double sigma = p[0];
    return std::min(1.0, diffDown(erfcEnclosure(std::max(a, 0.0), 0.0, sigma).first,
                                  erfcEnclosure(std::max(b, 0.0), 0.0, sigma).second));
  }
};

template <>
struct Dist<DistKind::LogNormal> : dist_detail::NoCellMethod, dist_detail::ConstantBounds {
  static constexpr DistKind K = DistKind::LogNormal;
  static std::optional<std::string> validate(std::span<const double> p) {
    return dist_detail::locationScale(K, p);
  }
  static double sample(std::span<const double> p, Rng& rng) {
    return dist_detail::positiveFromLog(p[0] + p[1] * rng.normal());
  }
  static double logDensity(std::span<const double> p, double x) {
    if (x <= 0) return -dist_detail::kInf;
    const double lx = std::log(x);
    const double z = (lx - p[0]) / p[1];
    return -0.5 * z * z - std::log(p[1]) - dist_detail::kLogSqrt2Pi - lx;
  }
  static void gradient(std::span<const double> p, double x, double& dx, std::span<double> dp) {
    double s = p[1], z = (std::log(x) - p[0]) / s;
    dx = -(1 + z / s) / x;
    dp[0] = z / s;
    dp[1] = (z * z - 1) / s;
  }
  static Support support(std::span<const double>) { return {0, dist_detail::kInf, false}; }
  static std::optional<double> mean(std::span<const double> p) {
    return std::exp(p[0] + 0.5 * p[1] * p[1]);
  }
  static std::optional<double> variance(std::span<const double> p) {
    const double s2 = p[1] * p[1];
    return std::expm1(s2) * std::exp(2 * p[0] + s2);
  }
  static Transform transform(std::span<const double>) {
    return {TransformKind::LowerBound, 0.0, 0.0};
  }
};

template <>
struct Dist<DistKind::Cauchy> : dist_detail::NoCellMethod, dist_detail::ConstantBounds {
  static constexpr DistKind K = DistKind::Cauchy;
  static std::optional<std::string> validate(std::span<const double> p) {
    return dist_detail::locationScale(K, p);
  }
  static double sample(std::span<const double> p, Rng& rng) {
    return dist_detail::finiteOrMax(p[0] + p[1] * dist_detail::standardCauchy(rng));
  }
  static double logDensity(std::span<const double> p, double x) {
    const double z = (x - p[0]) / p[1];
    return -std::log(std::numbers::pi * p[1]) - std::log1p(z * z);
  }
  static void gradient(std::span<const double> p, double x, double& dx, std::span<double> dp) {
    double s = p[1], z = (x - p[0]) / s, d = 1 + z * z;
    dx = -2 * z / (s * d);
    dp[0] = -dx;
    dp[1] = (z * z - 1) / (s * d);
  }
  static Support support(std::span<const double>) {
    return {-dist_detail::kInf, dist_detail::kInf, false};
  }
  static std::optional<double> mean(std::span<const double>) { return std::nullopt; }
  static std::optional<double> variance(std::span<const double>) { return std::nullopt; }
  static Transform transform(std::span<const double>) { return {}; }
};

template <>
struct Dist<DistKind::HalfCauchy> : dist_detail::NoCellMethod, dist_detail::ConstantBounds {
  static constexpr DistKind K = DistKind::HalfCauchy;
  static std::optional<std::string> validate(std::span<const double> p) {
    return dist_detail::positive(K, p, 0);
  }
  static double sample(std::span<const double> p, Rng& rng) {
    return dist_detail::finiteOrMax(p[0] * std::abs(dist_detail::standardCauchy(rng)));
  }
  static double logDensity(std::span<const double> p, double x) {
    if (x < 0) return -dist_detail::kInf;
    const double z = x / p[0];
    return std::log(2.0 / (std::numbers::pi * p[0])) - std::log1p(z * z);
  }
  static void gradient(std::span<const double> p, double x, double& dx, std::span<double> dp) {
    double s = p[0], z = x / s, d = 1 + z * z;
    dx = -2 * z / (s * d);
    dp[0] = (z * z - 1) / (s * d);
  }
  static Support support(std::span<const double>) { return {0, dist_detail::kInf, false}; }
  static std::optional<double> mean(std::span<const double>) { return std::nullopt; }
  static std::optional<double> variance(std::span<const double>) { return std::nullopt; }
  static Transform transform(std::span<const double>) {
    return {TransformKind::LowerBound, 0.0, 0.0};
  }
};

template <>
struct Dist<DistKind::StudentT> : dist_detail::NoCellMethod, dist_detail::ConstantBounds {
  static constexpr DistKind K = DistKind::StudentT;
  static std::optional<std::string> validate(std::span<const double> p) {
    if (auto e = dist_detail::positive(K, p, 0)) return e;
    if (auto e = dist_detail::finite(K, p, 1)) return e;
    return dist_detail::positive(K, p, 2);
  }
  static double sample(std::span<const double> p, Rng& rng) {
    // z / sqrt(V / nu) with V = 2 G(nu/2), the scale factor from logs (V may underflow).
    const double logV = std::log(2.0) + dist_detail::logGammaDraw(0.5 * p[0], rng);
    const double z = rng.normal();
    return dist_detail::finiteOrMax(p[1] + p[2] * z * std::exp(0.5 * (std::log(p[0]) - logV)));
  }
  static double logDensity(std::span<const double> p, double x) {
    const double nu = p[0];
    const double z = (x - p[1]) / p[2];
    return std::lgamma(0.5 * (nu + 1)) - std::lgamma(0.5 * nu) -
           0.5 * std::log(nu * std::numbers::pi) - std::log(p[2]) -
           0.5 * (nu + 1) * std::log1p(z * z / nu);
  }
  static void gradient(std::span<const double> p, double x, double& dx, std::span<double> dp) {
    double nu = p[0], s = p[2], z = (x - p[1]) / s, z2 = z * z;
    dx = -(nu + 1) * z / (s * (nu + z2));
    dp[1] = -dx;
    dp[2] = ((nu + 1) * z2 / (nu + z2) - 1) / s;
    dp[0] = 0.5 * (digamma(0.5 * (nu + 1)) - digamma(0.5 * nu) - 1 / nu - std::log1p(z2 / nu) +
                   (nu + 1) * z2 / (nu * (nu + z2)));
  }
  static Support support(std::span<const double>) {
    return {-dist_detail::kInf, dist_detail::kInf, false};
  }
  static std::optional<double> mean(std::span<const double> p) {
    if (p[0] <= 1) return std::nullopt;
    return p[1];
  }
  static std::optional<double> variance(std::span<const double> p) {
    if (p[0] <= 1) return std::nullopt;
    if (p[0] <= 2) return dist_detail::kInf;
    return p[2] * p[2] * p[0] / (p[0] - 2);
  }
  static Transform transform(std::span<const double>) { return {}; }
};

template <>
struct Dist<DistKind::Exponential> : dist_detail::ConstantBounds {
  static constexpr DistKind K = DistKind::Exponential;
  static std::optional<std::string> validate(std::span<const double> p) {
    return dist_detail::positive(K, p, 0);
  }
  static double sample(std::span<const double> p, Rng& rng) {
    return dist_detail::finiteOrMax(-std::log(rng.uniform()) / p[0]);
  }
  static double logDensity(std::span<const double> p, double x) {
    if (x < 0) return -dist_detail::kInf;
    return std::log(p[0]) - p[0] * x;
  }
  static void gradient(std::span<const double> p, double x, double& dx, std::span<double> dp) {
    dx = -p[0];
    dp[0] = 1 / p[0] - x;
  }
  static Support support(std::span<const double>) { return {0, dist_detail::kInf, false}; }
  static std::optional<double> mean(std::span<const double> p) { return 1 / p[0]; }
  static std::optional<double> variance(std::span<const double> p) { return 1 / (p[0] * p[0]); }
  static Transform transform(std::span<const double>) {
    return {TransformKind::LowerBound, 0.0, 0.0};
  }
  static constexpr bool kCellMethod = true;
  static std::pair<double, double> cellBox(std::span<const double> p) { return {0, 75 / p[0]}; }
  static double intervalMass(std::span<const double> p, double a, double b) {
    double l = p[0];
    return std::exp(-l * std::max(a, 0.0)) - std::exp(-l * std::max(b, 0.0));
  }
  static double intervalMassLowerBound(std::span<const double> p, double a, double b) {
    using namespace dist_detail;
    double l = p[0];
    return std::min(1.0, diffDown(expDecayEnclosure(l, std::max(a, 0.0)).first,
                                  expDecayEnclosure(l, std::max(b, 0.0)).second));
  }
};

template <>
struct Dist<DistKind::Gamma> : dist_detail::NoCellMethod, dist_detail::ConstantBounds {
  static constexpr DistKind K = DistKind::Gamma;
  static std::optional<std::string> validate(std::span<const double> p) {
    return dist_detail::twoPositive(K, p);
  }
  static double sample(std::span<const double> p, Rng& rng) {
    return dist_detail::positiveFromLog(dist_detail::logGammaDraw(p[0], rng) - std::log(p[1]));
  }
  static double logDensity(std::span<const double> p, double x) {
    const double a = p[0], rate = p[1];
    if (x <= 0 || x == dist_detail::kInf) return -dist_detail::kInf;
    return a * std::log(rate) - std::lgamma(a) + (a - 1) * std::log(x) - rate * x;
  }
  static void gradient(std::span<const double> p, double x, double& dx, std::span<double> dp) {
    double a = p[0], b = p[1];
    dx = (a - 1) / x - b;
    dp[0] = std::log(b) - digamma(a) + std::log(x);
    dp[1] = a / b - x;
  }
  static Support support(std::span<const double>) { return {0, dist_detail::kInf, false}; }
  static std::optional<double> mean(std::span<const double> p) { return p[0] / p[1]; }
  static std::optional<double> variance(std::span<const double> p) {
    return p[0] / (p[1] * p[1]);
  }
  static Transform transform(std::span<const double>) {
    return {TransformKind::LowerBound, 0.0, 0.0};
  }
};

template <>
struct Dist<DistKind::Beta> : dist_detail::NoCellMethod, dist_detail::ConstantBounds {
  static constexpr DistKind K = DistKind::Beta;
  static std::optional<std::string> validate(std::span<const double> p) {
    return dist_detail::twoPositive(K, p);
  }
  static double sample(std::span<const double> p, Rng& rng) {
    const double lx = dist_detail::logGammaDraw(p[0], rng);
    const double ly = dist_detail::logGammaDraw(p[1], rng);
    const double x = 1.0 / (1.0 + std::exp(ly - lx));
    if (x <= 0) return std::numeric_limits<double>::denorm_min();
    if (x >= 1) return std::nextafter(1.0, 0.0);
    return x;
  }
  static double logDensity(std::span<const double> p, double x) {
    const double a = p[0], b = p[1];
    if (x <= 0 || x >= 1) return -dist_detail::kInf;
    return (a - 1) * std::log(x) + (b - 1) * std::log1p(-x) - logBeta(a, b);
  }
  static void gradient(std::span<const double> p, double x, double& dx, std::span<double> dp) {
    double a = p[0], b = p[1], pab = digamma(a + b);
    dx = (a - 1) / x - (b - 1) / (1 - x);
    dp[0] = std::log(x) - digamma(a) + pab;
    dp[1] = std::log1p(-x) - digamma(b) + pab;
  }
  static Support support(std::span<const double>) { return {0, 1, false}; }
  static std::optional<double> mean(std::span<const double> p) { return p[0] / (p[0] + p[1]); }
  static std::optional<double> variance(std::span<const double> p) {
    const double s = p[0] + p[1];
    return p[0] * p[1] / (s * s * (s + 1));
  }
  static Transform transform(std::span<const double>) {
    return {TransformKind::Interval, 0.0, 1.0};
  }
};

// =============================================================================================
// The flat priors of Stan's constrained parameters: density 1 on the (closed) support,
// unnormalised; nothing to draw (isFlat: the callers refuse first, sample returns NaN), no
// moments, no derivative (the bounds act through the transform's Jacobian).

namespace dist_detail {
struct FlatCommon : NoCellMethod {
  static double sample(std::span<const double>, Rng&) { return kNaN; }
  static void gradient(std::span<const double>, double, double&, std::span<double>) {}
  static std::optional<double> mean(std::span<const double>) { return std::nullopt; }
  static std::optional<double> variance(std::span<const double>) { return std::nullopt; }
};
} // namespace dist_detail

template <>
struct Dist<DistKind::Flat> : dist_detail::FlatCommon, dist_detail::ConstantBounds {
  static constexpr DistKind K = DistKind::Flat;
  static std::optional<std::string> validate(std::span<const double>) { return std::nullopt; }
  static double logDensity(std::span<const double>, double x) {
    return std::isfinite(x) ? 0.0 : -dist_detail::kInf;
  }
  static Support support(std::span<const double>) {
    return {-dist_detail::kInf, dist_detail::kInf, false};
  }
  static Transform transform(std::span<const double>) { return {}; }
};

template <>
struct Dist<DistKind::FlatLower> : dist_detail::FlatCommon {
  static constexpr DistKind K = DistKind::FlatLower;
  static std::optional<std::string> validate(std::span<const double> p) {
    return dist_detail::finite(K, p, 0);
  }
  static double logDensity(std::span<const double> p, double x) {
    return x >= p[0] && x < dist_detail::kInf ? 0.0 : -dist_detail::kInf;
  }
  static Support support(std::span<const double> p) { return {p[0], dist_detail::kInf, false}; }
  static Transform transform(std::span<const double> p) {
    return {TransformKind::LowerBound, p[0], 0.0};
  }
  static constexpr int kLowerParam = 0, kUpperParam = -1;
};

template <>
struct Dist<DistKind::FlatUpper> : dist_detail::FlatCommon {
  static constexpr DistKind K = DistKind::FlatUpper;
  static std::optional<std::string> validate(std::span<const double> p) {
    return dist_detail::finite(K, p, 0);
  }
  static double logDensity(std::span<const double> p, double x) {
    return x <= p[0] && x > -dist_detail::kInf ? 0.0 : -dist_detail::kInf;
  }
  static Support support(std::span<const double> p) { return {-dist_detail::kInf, p[0], false}; }
  static Transform transform(std::span<const double> p) {
    return {TransformKind::UpperBound, 0.0, p[0]};
  }
  static constexpr int kLowerParam = -1, kUpperParam = 0;
};

template <>
struct Dist<DistKind::FlatInterval> : dist_detail::FlatCommon {
  static constexpr DistKind K = DistKind::FlatInterval;
  static std::optional<std::string> validate(std::span<const double> p) {
    if (auto e = dist_detail::finite(K, p, 0)) return e;
    if (auto e = dist_detail::finite(K, p, 1)) return e;
    if (!(p[0] < p[1])) return dist_detail::failPair(K, "<", p[0], p[1]);
    return std::nullopt;
  }
  static double logDensity(std::span<const double> p, double x) {
    return x >= p[0] && x <= p[1] ? 0.0 : -dist_detail::kInf;
  }
  static Support support(std::span<const double> p) { return {p[0], p[1], false}; }
  static Transform transform(std::span<const double> p) {
    return {TransformKind::Interval, p[0], p[1]};
  }
  static constexpr int kLowerParam = 0, kUpperParam = 1;
};

// =============================================================================================
// The completeness check and the dispatch

/// What every Dist<K> provides (see the header comment).
template <class D>
concept DistTrait = requires(std::span<const double> p, double x, Rng& rng, double& dx,
                             std::span<double> dp) {
  { D::K } -> std::convertible_to<DistKind>;
  { D::validate(p) } -> std::same_as<std::optional<std::string>>;
  { D::sample(p, rng) } -> std::same_as<double>;
  { D::logDensity(p, x) } -> std::same_as<double>;
  { D::gradient(p, x, dx, dp) } -> std::same_as<void>;
  { D::support(p) } -> std::same_as<Support>;
  { D::mean(p) } -> std::same_as<std::optional<double>>;
  { D::variance(p) } -> std::same_as<std::optional<double>>;
  { D::transform(p) } -> std::same_as<Transform>;
  { D::kLowerParam } -> std::convertible_to<int>;
  { D::kUpperParam } -> std::convertible_to<int>;
  { D::kCellMethod } -> std::convertible_to<bool>;
  requires !D::kCellMethod || requires {
    { D::cellBox(p) } -> std::same_as<std::pair<double, double>>;
    { D::intervalMass(p, x, x) } -> std::same_as<double>;
    { D::intervalMassLowerBound(p, x, x) } -> std::same_as<double>;
  };
};

#define CHASSIS_DIST(Name, ...)                                                                  \
  static_assert(DistTrait<Dist<DistKind::Name>>,                                                 \
                "spec/distributions.def lists " #Name " but symbolic/dist_traits.h has no "      \
                "complete Dist<DistKind::" #Name "> (see the members the header comment lists)");
#include "spec/distributions.def"

/// f(Dist<k>{}) for the run-time kind k: the one switch over DistKind the back ends share.
template <class F>
decltype(auto) dispatch(DistKind k, F&& f) {
  switch (k) {
#define CHASSIS_DIST(Name, ...)                                                                  \
  case DistKind::Name:                                                                           \
    return f(Dist<DistKind::Name>{});
#include "spec/distributions.def"
  }
  return f(Dist<DistKind::Flat>{}); // not reached: k is a DistKind (-Wswitch sees every case)
}

/// logDensity with the checks every kind shares: NaN, and a non-integral value of a discrete
/// kind, have density 0.
template <class D>
double logDensityOf(std::span<const double> p, double x) {
  if (std::isnan(x)) return -dist_detail::kInf;
  if constexpr (kDistSignatures[static_cast<int>(D::K)].discrete)
    if (!dist_detail::integral(x)) return -dist_detail::kInf;
  return D::logDensity(p, x);
}

} // namespace chassis::symbolic
