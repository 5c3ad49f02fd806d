// Sampling, log density / mass, support and parameter validation for every distribution of
// spec/distributions.def. Parameters are passed as doubles (int parameters hold integral values);
// Categorical takes its probability vector as `params`. Draws are doubles too: a Bool draw is 0 or
// 1, an Int draw an integral value.
#pragma once

#include "spec/dist_kind.h"
#include "spec/rng.h"

#include <optional>
#include <span>
#include <string>

namespace chassis::symbolic {

/// Why `params` are invalid for `k` (e.g. "Normal: sigma must be > 0, got -1"), or nullopt.
std::optional<std::string> validateParams(DistKind k, std::span<const double> params);

/// A draw; `params` must be valid.
double sample(DistKind k, std::span<const double> params, chassis::Rng& rng);

/// log density (continuous) or log mass (discrete) at x; -infinity outside the support.
double logDensity(DistKind k, std::span<const double> params, double x);

/// The support as a closed interval [lo, hi] (may be infinite); for discrete kinds the integral
/// values inside it.
struct Support {
  double lo, hi;
  bool discrete;
};
Support support(DistKind k, std::span<const double> params);

/// Added by the runtime: the mean and variance for valid `params`; nullopt where the moment does
/// not exist (Cauchy, HalfCauchy; StudentT with nu <= 1), +infinity where it is infinite
/// (StudentT variance for 1 < nu <= 2).
std::optional<double> mean(DistKind k, std::span<const double> params);
std::optional<double> variance(DistKind k, std::span<const double> params);

} // namespace chassis::symbolic
