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
// A traced run (JitRuntime::tracing set) sends every sample through chassis_rt_choice instead,
// which records the choice under its address (JitChoice) and takes its value from a replay
// trace when the address is there, as the interpreter's RunOptions::replay does; calls of
// sampling callees enter and leave their call site's address prefix (chassis_rt_enter/leave).
#pragma once

#include "spec/rng.h"
#include "symbolic/dist_traits.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace chassis::codegen {

/// The third argument of a compiled random module, `int chassis_M(const double* in, double* out,
/// void* rt)`. Reset it (a fresh value) before each run.
struct JitTracing;

/// One random choice of a compiled run, recorded when the run is traced (JitTracing). Its key is
/// the interpreter's address in binary form: the call-site segments then the sample's own, each
/// segment an int32 name id (JitModel::choiceName), an int32 index count and the index values'
/// float64 bits, so two keys are equal exactly when the interpreter's address strings are.
struct JitChoice {
  uint32_t keyAt = 0, keyLen = 0;     // in JitTrace::keys
  uint32_t paramAt = 0, paramLen = 0; // in JitTrace::params
  int32_t dist = 0;                   // a DistKind
  bool replayed = false;              // the value came from the replay trace, not a draw
  /// Recorded by a run (chassis_rt_choice): its parameters passed validateParams. (A replay
  /// trace made from RunOptions::replay's values has none.)
  bool checked = false;
  double value = 0, logProb = 0;
  /// Normal's log(sigma) (a term of its log density), kept with the parameters so that a choice
  /// replayed under the same ones is scored at a new value without a logarithm; 0 otherwise.
  double logScale = 0;
};

/// Normal's log density at x (symbolic/dist_traits.h's logDensityOf<Normal>, the same
/// operations in the same order) with log(sigma) given: logScale == std::log(p[1]).
inline double normalLogDensity(const double* p, double logScale, double x) {
  if (std::isnan(x)) return -symbolic::dist_detail::kInf;
  const double z = (x - p[0]) / p[1];
  return -0.5 * z * z - logScale - symbolic::dist_detail::kLogSqrt2Pi;
}

/// The choices of one traced compiled run, in execution order (flat pools, reused run to run).
/// Keys are not written while a replaying run's choices have the replay trace's keys, position
/// by position (JitTracing::inPlace): the choices then refer to the replay trace's key pool
/// (`sharedKeys`), and the run writes its own pool (a copy of that one, then its new keys) only
/// from the first choice whose key differs. A trace that keeps `sharedKeys` is valid while the
/// pool it points to is (adoptKeys() takes the pool over).
struct JitTrace {
  std::vector<JitChoice> choices;
  std::string keys;
  std::vector<double> params;
  const std::string* sharedKeys = nullptr; // when set, the pool keyAt refers to (not `keys`)
  const std::string& keyPool() const { return sharedKeys ? *sharedKeys : keys; }
  std::string_view key(const JitChoice& c) const {
    return {keyPool().data() + c.keyAt, c.keyLen};
  }
  std::span<const double> paramsOf(const JitChoice& c) const {
    return {params.data() + c.paramAt, c.paramLen};
  }
  /// Makes `keys` the pool (a copy of the shared one): before a key is appended.
  void ownKeys() {
    if (!sharedKeys) return;
    keys.assign(*sharedKeys);
    sharedKeys = nullptr;
  }
  /// Takes the shared pool `pool` over by swapping it with `keys` (`pool` must be the one
  /// sharedKeys points to; it is left with this trace's unused buffer).
  void adoptKeys(std::string& pool) {
    if (!sharedKeys) return;
    keys.swap(pool);
    sharedKeys = nullptr;
  }
  void clear() {
    choices.clear();
    keys.clear();
    params.clear();
    sharedKeys = nullptr;
  }
};

/// Key -> position of the choices of a trace (the first of a repeated key).
using JitTraceIndex = std::unordered_map<std::string, uint32_t>;
void indexTrace(const JitTrace& t, JitTraceIndex& index);

/// What a traced run records and replays (JitRuntime::tracing). Replay is symbolic::RunOptions::
/// replay with the values of `replayFrom`, except position `overrideAt` whose value is
/// `overrideValue` (what single-site MH re-runs with): a choice whose key is in `replayFrom` takes
/// its value (and is scored under the current parameters), any other is drawn.
struct JitTracing {
  JitTrace trace; // filled by the run (clear() it first: reset())
  const JitTrace* replayFrom = nullptr;
  const JitTraceIndex* replayIndex = nullptr; // the index of replayFrom
  int64_t overrideAt = -1;
  double overrideValue = 0;
  /// When not null: the log density of overrideValue under the distribution and parameters of
  /// replayFrom's choice overrideAt (used when the run has the same ones there).
  const double* overrideLogProb = nullptr;
  // The call path: `prefix` is the key of the call sites entered; `marks` its length at each
  // entry; `saved` the prefixes replaced by calls from expressions (the interpreter runs those
  // with an empty prefix).
  std::string prefix;
  std::vector<uint32_t> marks;
  std::vector<std::string> saved;
  std::string keyBuf;
  /// Set by reset(), cleared by a choice that is not replayed from its own position in
  /// replayFrom: while set, the run's keys are replayFrom's, position by position, so far, and
  /// are not written (JitTrace::sharedKeys is replayFrom's pool).
  bool inPlace = true;
  void reset() {
    inPlace = true;
    trace.clear();
    if (replayFrom) trace.sharedKeys = &replayFrom->keyPool();
    if (!marks.empty()) { // no call site entered: the prefix and the saved ones are empty
      prefix.clear();
      marks.clear();
      saved.clear();
    }
  }
};

/// A proposal's in-place replay, read and advanced by the generated code itself (no runtime
/// call): while a run's choices so far are the replay trace's, position by position, under the
/// same distribution, parameters (bit for bit) and key, and no call-site prefix has been entered,
/// a sample site checks the choice at position `pos` of the replay trace inline (its name and index
/// count are constants of the site) and, when it matches, takes its value (or the override) and
/// score without recording anything: the run's trace is then the replay trace with the override,
/// implicitly. The first sample that does not match (or a call-site entry) makes the runtime write
/// the implicit choices into JitTracing::trace (leaveFastReplay) and clear JitRuntime::fast; the
/// run then goes on recording as before. The choices so implied are exactly those
/// chassis_rt_choice's fast path would have recorded.
struct JitFastReplay {
  const JitChoice* choices = nullptr; // the replay trace's
  const double* params = nullptr;     // its parameter pool
  const char* keys = nullptr;         // its key pool
  int64_t count = 0;                  // its number of choices
  int64_t pos = 0;                    // this run's choices so far (implied, not recorded)
  int64_t overrideAt = -1;            // JitTracing::overrideAt
  double overrideValue = 0;           // JitTracing::overrideValue
  const double* overrideLogProb = nullptr; // JitTracing::overrideLogProb
  double overrideScore = 0; // written by the run: the override's log density, once reached
};
static_assert(std::is_standard_layout_v<JitChoice> && std::is_standard_layout_v<JitFastReplay>,
              "the generated code reads these by offset");

struct JitRuntime {
  /// Written by the generated code: the site (JitModel::siteLocation) of the statement that
  /// failed, -1 while none (a failing input check of the module itself leaves it -1).
  int32_t errSite = -1;
  int32_t conditionFailed = 0;
  int32_t numObserves = 0, numFactors = 0, numConditions = 0;
  double logPrior = 0, logLikelihood = 0, logFactor = 0;
  Rng* rng = nullptr;
  /// Null: the choices are not recorded (likelihood weighting). Otherwise every sample goes
  /// through chassis_rt_choice, which records and replays (the generated code tests this field).
  JitTracing* tracing = nullptr;
  /// Set (with tracing) for a run that replays in place without recording while it can
  /// (JitFastReplay); cleared by the runtime when the run leaves that mode.
  JitFastReplay* fast = nullptr;

  /// A fresh run's fields (errSite, totals, counts and flags as initialised above), the
  /// generator, tracing and fast-replay pointers left as they are.
  void resetRun() {
    errSite = -1;
    conditionFailed = numObserves = numFactors = numConditions = 0;
    logPrior = logLikelihood = logFactor = 0;
  }
};
static_assert(std::is_standard_layout_v<JitRuntime> && offsetof(JitRuntime, errSite) == 0,
              "the generated code stores errSite at offset 0");

/// Leaves a run's in-place replay (JitRuntime::fast, when set): writes the choices it implied into
/// the run's trace (the replay trace's first `pos`, replayed, the override's value and score at
/// its position) and clears `fast`. A runner calls it after a run that ended still in that mode
/// with fewer choices than the replay trace.
void leaveFastReplay(JitRuntime& rt);

} // namespace chassis::codegen

extern "C" {
/// Validates `params` (n values) for distribution `dist` (a DistKind), refuses a flat prior,
/// draws into *value and adds its log density to logPrior.
int chassis_rt_sample(void* rt, int32_t dist, const double* params, int64_t n, double* value);
/// chassis_rt_sample for parameters known valid and a distribution that is not a flat prior
/// (constants checked when the module was compiled): draws and scores, returns 0.
int chassis_rt_sample_valid(void* rt, int32_t dist, const double* params, int64_t n,
                            double* value);
/// The draw of chassis_rt_sample (`check`) or chassis_rt_sample_valid without its log density,
/// on a generator given by its state (Rng's four uint64 words, advanced in place): the samples of
/// likelihood weighting's untraced variant (codegen.cpp ModuleGen::get), whose log prior is not
/// kept.
int chassis_rt_draw(uint64_t* rngState, int32_t dist, const double* params, int64_t n,
                    int32_t check, double* value);
/// A standard normal draw (Rng::normal); the generated code does the rest of a Normal sample.
double chassis_rt_normal(void* rt);
/// A uniform draw on (0, 1) (Rng::uniform), for Bernoulli's inline draw.
double chassis_rt_uniform(void* rt);
/// Validates `params` for `dist` (the first half of an observe).
int chassis_rt_check_params(int32_t dist, const double* params, int64_t n);
/// Adds log p_dist(x | params) to logLikelihood (the params were checked).
void chassis_rt_observe(void* rt, int32_t dist, const double* params, int64_t n, double x);
/// log p_dist(x | params) (symbolic::logDensity): chassis_rt_observe's term, for likelihood
/// weighting's untraced variant, which adds it itself.
double chassis_rt_log_density(int32_t dist, const double* params, int64_t n, double x);
void chassis_rt_condition(void* rt, double holds);
int chassis_rt_factor(void* rt, double logWeight);
/// A traced sample (JitRuntime::tracing set): validates the params, then the choice of name
/// `name` at indices idx[0..nIdx) under the current call path; replayed or drawn (a flat prior
/// that is not replayed: kFlatPrior), scored, recorded, stored in *value.
int chassis_rt_choice(void* rt, int32_t name, const double* idx, int64_t nIdx, int32_t dist,
                      const double* params, int64_t n, double* value);
/// Enters the call site `name` at indices idx[0..nIdx) (traced runs); name < 0: a call from an
/// expression, whose choices have no prefix. chassis_rt_leave undoes the last enter.
void chassis_rt_enter(void* rt, int32_t name, const double* idx, int64_t nIdx);
void chassis_rt_leave(void* rt);
/// The entry of an ahead-of-time compiled random module (codegen.h compileObject): runs
/// `module` (the module's compiled function, `int (const double*, double*, void* rt)`) once on a
/// fresh runtime whose generator is chassis::Rng(seed), the interpreter's stream of `chassis run
/// --seed`, untraced. Returns the module's code, or kConditionFailed when it completed but a
/// condition was false (then `out` holds the run's outputs). `logWeight`, when not null, receives
/// the run's log weight (log likelihood + factors; -infinity when a condition failed).
int chassis_rt_run_seeded(void* module, const double* in, double* out, uint64_t seed,
                          double* logWeight);
}
