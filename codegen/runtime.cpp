// The run-time support of compiled random modules (see runtime.h).
#include "codegen/runtime.h"

#include "codegen/codegen.h"
#include "symbolic/distributions.h"

#include <cmath>
#include <span>

using chassis::codegen::JitRuntime;

namespace {
JitRuntime& state(void* rt) { return *static_cast<JitRuntime*>(rt); }
std::span<const double> paramSpan(const double* p, int64_t n) {
  return {p, static_cast<size_t>(n)};
}
chassis::DistKind kind(int32_t d) { return static_cast<chassis::DistKind>(d); }
} // namespace

extern "C" {

int chassis_rt_check_params(int32_t dist, const double* params, int64_t n) {
  if (chassis::symbolic::validateParams(kind(dist), paramSpan(params, n)))
    return chassis::codegen::kInvalidParameter;
  return chassis::codegen::kOk;
}

int chassis_rt_sample(void* rt, int32_t dist, const double* params, int64_t n, double* value) {
  if (int rc = chassis_rt_check_params(dist, params, n)) return rc;
  if (chassis::isFlat(kind(dist))) return chassis::codegen::kFlatPrior;
  JitRuntime& s = state(rt);
  const double v = chassis::symbolic::sample(kind(dist), paramSpan(params, n), *s.rng);
  s.logPrior += chassis::symbolic::logDensity(kind(dist), paramSpan(params, n), v);
  *value = v;
  return chassis::codegen::kOk;
}

double chassis_rt_normal(void* rt) { return state(rt).rng->normal(); }
double chassis_rt_uniform(void* rt) { return state(rt).rng->uniform(); }

void chassis_rt_observe(void* rt, int32_t dist, const double* params, int64_t n, double x) {
  JitRuntime& s = state(rt);
  s.logLikelihood += chassis::symbolic::logDensity(kind(dist), paramSpan(params, n), x);
  ++s.numObserves;
}

void chassis_rt_condition(void* rt, double holds) {
  JitRuntime& s = state(rt);
  ++s.numConditions;
  if (holds == 0) s.conditionFailed = 1;
}

int chassis_rt_factor(void* rt, double logWeight) {
  if (std::isnan(logWeight)) return chassis::codegen::kFactorNaN;
  JitRuntime& s = state(rt);
  s.logFactor += logWeight;
  ++s.numFactors;
  return chassis::codegen::kOk;
}

} // extern "C"
