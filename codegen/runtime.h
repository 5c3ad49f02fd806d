// The run-time support of compiled random modules: the state one run of a compiled module
// carries (its generator and the totals of its trace), and the C functions the generated code
// calls for sample, observe, condition and factor. The functions are registered in the LLJIT as
// absolute symbols (codegen.cpp), so no symbol is looked up in the process by name.
//
// Each function does what the interpreter's statement does (symbolic/interp.cpp), with the same
// calls in the same order, so a compiled run draws the same stream at a seed and scores the same
// weights bit for bit:
//   sample:  symbolic::validateParams, the flat-prior refusal, symbolic::sample, then
//            symbolic::logDensity of the draw added to logPrior;
//   observe: validateParams (before the observed value is evaluated, as in the interpreter), then
//            logDensity of the value added to logLikelihood;
//   condition: counts, and marks the run failed when false (the run goes on, as interpreted);
//   factor:  refuses NaN, adds to logFactor.
// (Normal's and Bernoulli's validation, draw and density are generated inline, the same
// operations; only the standard normal and uniform draws are calls, chassis_rt_normal/uniform.)
// A function returns 0 or an ErrorCode (codegen.h); the generated code then returns that code,
// after storing the failing statement's site number in `errSite`.
#pragma once

#include "spec/rng.h"

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace chassis::codegen {

/// The third argument of a compiled random module, `int chassis_M(const double* in, double* out,
/// void* rt)`. Reset it (a fresh value) before each run.
struct JitRuntime {
  /// Written by the generated code: the site (JitModel::siteLocation) of the statement that
  /// failed, -1 while none (a failing input check of the module itself leaves it -1).
  int32_t errSite = -1;
  int32_t conditionFailed = 0;
  int32_t numObserves = 0, numFactors = 0, numConditions = 0;
  double logPrior = 0, logLikelihood = 0, logFactor = 0;
  Rng* rng = nullptr;
};
static_assert(std::is_standard_layout_v<JitRuntime> && offsetof(JitRuntime, errSite) == 0,
              "the generated code stores errSite at offset 0");

} // namespace chassis::codegen

extern "C" {
/// Validates `params` (n values) for distribution `dist` (a DistKind), refuses a flat prior,
/// draws into *value and adds its log density to logPrior.
int chassis_rt_sample(void* rt, int32_t dist, const double* params, int64_t n, double* value);
/// A standard normal draw (Rng::normal); the generated code does the rest of a Normal sample.
double chassis_rt_normal(void* rt);
/// A uniform draw on (0, 1) (Rng::uniform), for Bernoulli's inline draw.
double chassis_rt_uniform(void* rt);
/// Validates `params` for `dist` (the first half of an observe).
int chassis_rt_check_params(int32_t dist, const double* params, int64_t n);
/// Adds log p_dist(x | params) to logLikelihood (the params were checked).
void chassis_rt_observe(void* rt, int32_t dist, const double* params, int64_t n, double x);
void chassis_rt_condition(void* rt, double holds);
int chassis_rt_factor(void* rt, double logWeight);
}
