// Compiled (syntax and instantiation only) by check.cmake: a user of symbolic/dist_traits.h, with,
// under CHASSIS_WITH_WEIBULL_TRAIT, the trait of a distribution that a copy of
// spec/distributions.def adds (Weibull), declared before the header's completeness check.
#include "spec/dist_kind.h"
#include "spec/rng.h"
#include "symbolic/distributions.h"
#include "symbolic/transforms.h"

#include <cmath>
#include <optional>
#include <span>
#include <string>

#ifdef CHASSIS_WITH_WEIBULL_TRAIT
namespace chassis::symbolic {
template <DistKind K>
struct Dist;

template <>
struct Dist<DistKind::Weibull> {
  static constexpr DistKind K = DistKind::Weibull;
  static constexpr int kLowerParam = -1, kUpperParam = -1;
  static constexpr bool kCellMethod = false;
  static std::optional<std::string> validate(std::span<const double> p) {
    if (!(p[0] > 0) || !(p[1] > 0)) return std::string("Weibull: shape and scale must be > 0");
    return std::nullopt;
  }
  static double sample(std::span<const double> p, Rng& rng) {
    return p[1] * std::pow(-std::log(rng.uniform()), 1 / p[0]);
  }
  static double logDensity(std::span<const double> p, double x) {
    if (x < 0) return -INFINITY;
    const double k = p[0], l = p[1];
    return std::log(k / l) + (k - 1) * std::log(x / l) - std::pow(x / l, k);
  }
#ifndef CHASSIS_WEIBULL_OMIT_GRADIENT
  static void gradient(std::span<const double>, double, double&, std::span<double>) {}
#endif
  static Support support(std::span<const double>) { return {0, INFINITY, false}; }
  static std::optional<double> mean(std::span<const double>) { return std::nullopt; }
  static std::optional<double> variance(std::span<const double>) { return std::nullopt; }
  static Transform transform(std::span<const double>) {
    return {TransformKind::LowerBound, 0.0, 0.0};
  }
};
} // namespace chassis::symbolic
#endif

#include "symbolic/dist_traits.h"

namespace chassis::symbolic {

double logDensityThroughTraits(DistKind k, std::span<const double> p, double x) {
  return dispatch(k, [&](auto d) { return logDensityOf<decltype(d)>(p, x); });
}

} // namespace chassis::symbolic
