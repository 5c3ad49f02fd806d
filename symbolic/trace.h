// An execution trace of an IR function (spec/ir.h, "Probability"): every random choice with its
// address, distribution, parameters, value and log prior density, plus the totals that make the
// trace's weight. Inference engines build on it: likelihood weighting uses logWeight(); MH
// proposes a change to one choice and re-runs with the others replayed (RunOptions::replay),
// accepting by the difference of logJoint(); SMC resamples traces by weight.
//
//   logPrior      = sum over choices of log p_D(value | params)
//   logLikelihood = sum over observes of log p_D(x | params)
//   logFactor     = sum of factor(w) arguments
//   logWeight     = logLikelihood + logFactor, or -inf if a condition failed
//   logJoint      = logPrior + logWeight   (the unnormalised log posterior density of the trace)
#pragma once

#include "spec/dist_kind.h"

#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chassis::symbolic {

struct Choice {
  std::string address; // e.g. "distance", "theta[3]", "Sensor/noise", "Sensor#2[1]/noise"
  DistKind dist;
  std::vector<double> params; // as passed to the distribution (Categorical: the weights)
  double value;               // bool 0/1, int integral, real
  double logProb;             // log density (continuous) or log mass (discrete) of value
  bool replayed = false;      // the value came from RunOptions::replay rather than a draw
};

struct Trace {
  std::vector<Choice> choices; // in execution order
  double logPrior = 0;
  double logLikelihood = 0;
  double logFactor = 0;
  bool conditionFailed = false;
  int numObserves = 0, numFactors = 0, numConditions = 0;

  /// True when the weight is not identically 1 (some observe, factor or condition ran).
  bool weighted() const { return numObserves + numFactors + numConditions > 0; }
  double logWeight() const {
    return conditionFailed ? -std::numeric_limits<double>::infinity() : logLikelihood + logFactor;
  }
  double logJoint() const { return logPrior + logWeight(); }
  /// The choice at `address`, or null. (Lowering makes addresses unique within a trace; for
  /// hand-built IR that repeats one, the first.)
  const Choice* find(std::string_view address) const {
    for (const Choice& c : choices)
      if (c.address == address) return &c;
    return nullptr;
  }
  /// The choices as address -> value, for RunOptions::replay.
  std::unordered_map<std::string, double> values() const {
    std::unordered_map<std::string, double> m;
    for (const Choice& c : choices)
      m.emplace(c.address, c.value);
    return m;
  }
  void clear() { *this = Trace{}; }
};

} // namespace chassis::symbolic
