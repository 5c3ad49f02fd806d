// The run-time support of compiled random modules (see runtime.h).
#include "codegen/runtime.h"

#include "codegen/codegen.h"
#include "symbolic/dist_traits.h"
#include "symbolic/distributions.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <span>

using chassis::codegen::JitRuntime;
using chassis::codegen::JitTracing;

namespace chassis::codegen {
void indexTrace(const JitTrace& t, JitTraceIndex& index) {
  index.clear();
  for (size_t i = 0; i < t.choices.size(); ++i)
    index.emplace(std::string(t.key(t.choices[i])), uint32_t(i));
}

void leaveFastReplay(JitRuntime& rt) {
  JitFastReplay* f = rt.fast;
  if (!f) return;
  rt.fast = nullptr;
  JitTrace& tr = rt.tracing->trace;
  const JitTrace& from = *rt.tracing->replayFrom;
  const size_t pos = size_t(f->pos);
  tr.choices.assign(from.choices.begin(), from.choices.begin() + long(pos));
  for (JitChoice& c : tr.choices)
    c.replayed = true;
  if (f->overrideAt >= 0 && size_t(f->overrideAt) < pos) {
    JitChoice& c = tr.choices[size_t(f->overrideAt)];
    c.value = f->overrideValue;
    c.logProb = f->overrideScore;
  }
  // The parameters of the first `pos` choices: a prefix of the pool (laid out in order).
  const size_t params = pos < from.choices.size() ? from.choices[pos].paramAt : from.params.size();
  tr.params.assign(from.params.begin(), from.params.begin() + long(params));
}
} // namespace chassis::codegen

namespace {
JitRuntime& state(void* rt) { return *static_cast<JitRuntime*>(rt); }
/// Rng's state as its four uint64 words (spec/rng.h; Rng is trivially copyable), in and out.
std::array<uint64_t, 4> words(const uint64_t* s) { return {s[0], s[1], s[2], s[3]}; }
void store(uint64_t* s, const chassis::Rng& r) {
  const auto w = std::bit_cast<std::array<uint64_t, 4>>(r);
  std::copy(w.begin(), w.end(), s);
}
std::span<const double> paramSpan(const double* p, int64_t n) {
  return {p, static_cast<size_t>(n)};
}
chassis::DistKind kind(int32_t d) { return static_cast<chassis::DistKind>(d); }
/// Appends one key segment: name id, index count, index bits.
void appendSegment(std::string& key, int32_t name, const double* idx, int64_t n) {
  const int32_t head[2] = {name, int32_t(n)};
  key.append(reinterpret_cast<const char*>(head), sizeof head);
  if (n > 0) key.append(reinterpret_cast<const char*>(idx), size_t(n) * sizeof(double));
}
/// Whether a[0..n) and b[0..n) are the same float64 values bit for bit.
bool sameBits(const double* a, const double* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (std::bit_cast<uint64_t>(a[i]) != std::bit_cast<uint64_t>(b[i])) return false;
  return true;
}
/// Whether `key` is prefix + the segment (name, idx[0..n)), compared without forming the latter.
bool sameKey(std::string_view key, const std::string& prefix, int32_t name, const double* idx,
             int64_t n) {
  const size_t p = prefix.size();
  if (key.size() != p + 8 + size_t(n) * 8) return false;
  if (p > 0 && std::memcmp(key.data(), prefix.data(), p) != 0) return false;
  const int32_t head[2] = {name, int32_t(n)};
  if (std::memcmp(key.data() + p, head, sizeof head) != 0) return false;
  return n == 0 || std::memcmp(key.data() + p + 8, idx, size_t(n) * sizeof(double)) == 0;
}
/// The log density of a choice's value v under `dist` and params[0..n): `known` when given (the
/// replay trace's score under these same parameters, or an override's given one), else Normal's
/// from log(sigma) = logScale, else symbolic::logDensity.
[[gnu::always_inline]] inline double choiceLogDensity(int32_t dist, const double* params, int64_t n,
                                                      double v, const double* known,
                                                      double logScale) {
  if (known) return *known;
  if (kind(dist) == chassis::DistKind::Normal && n == 2)
    return chassis::codegen::normalLogDensity(params, logScale, v);
  return chassis::symbolic::logDensity(kind(dist), paramSpan(params, n), v);
}
/// Parameters that symbolic::validateParams accepts, told without calling it (Normal's, the
/// common case of a traced run); false: ask validateParams.
bool plainlyValid(int32_t dist, const double* p, int64_t n) {
  return kind(dist) == chassis::DistKind::Normal && n == 2 && std::isfinite(p[0]) && p[1] > 0 &&
         std::isfinite(p[1]);
}
} // namespace

extern "C" {

int chassis_rt_check_params(int32_t dist, const double* params, int64_t n) {
  if (plainlyValid(dist, params, n)) return chassis::codegen::kOk;
  if (chassis::symbolic::validateParams(kind(dist), paramSpan(params, n)))
    return chassis::codegen::kInvalidParameter;
  return chassis::codegen::kOk;
}

} // extern "C"

namespace {
/// Whether a sample of `dist` may be drawn: its parameters' code (chassis_rt_check_params), or
/// kFlatPrior for a flat prior (nothing to draw from), else 0.
int drawable(int32_t dist, const double* params, int64_t n) {
  if (int rc = chassis_rt_check_params(dist, params, n)) return rc;
  if (chassis::isFlat(kind(dist))) return chassis::codegen::kFlatPrior;
  return chassis::codegen::kOk;
}
} // namespace

extern "C" {

int chassis_rt_sample(void* rt, int32_t dist, const double* params, int64_t n, double* value) {
  if (int rc = drawable(dist, params, n)) return rc;
  return chassis_rt_sample_valid(rt, dist, params, n, value);
}

int chassis_rt_sample_valid(void* rt, int32_t dist, const double* params, int64_t n,
                            double* value) {
  JitRuntime& s = state(rt);
  const double v = chassis::symbolic::sample(kind(dist), paramSpan(params, n), *s.rng);
  s.logPrior += chassis::symbolic::logDensity(kind(dist), paramSpan(params, n), v);
  *value = v;
  return chassis::codegen::kOk;
}

int chassis_rt_draw(uint64_t* rngState, int32_t dist, const double* params, int64_t n,
                    int32_t check, double* value) {
  if (check)
    if (int rc = drawable(dist, params, n)) return rc;
  auto r = std::bit_cast<chassis::Rng>(words(rngState));
  *value = chassis::symbolic::sample(kind(dist), paramSpan(params, n), r);
  store(rngState, r);
  return chassis::codegen::kOk;
}

double chassis_rt_normal(void* rt) { return state(rt).rng->normal(); }
double chassis_rt_uniform(void* rt) { return state(rt).rng->uniform(); }

double chassis_rt_log_density(int32_t dist, const double* params, int64_t n, double x) {
  return chassis::symbolic::logDensity(kind(dist), paramSpan(params, n), x);
}

void chassis_rt_observe(void* rt, int32_t dist, const double* params, int64_t n, double x) {
  JitRuntime& s = state(rt);
  s.logLikelihood += chassis_rt_log_density(dist, params, n, x);
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

namespace {
/// Appends choice c (its paramAt set here) with parameters params[0..n) to `tr`.
[[gnu::always_inline]] inline void record(chassis::codegen::JitTrace& tr,
                                          chassis::codegen::JitChoice& c, const double* params,
                                          int64_t n) {
  c.paramAt = uint32_t(tr.params.size());
  c.paramLen = uint32_t(n);
  c.checked = true;
  for (int64_t i = 0; i < n; ++i) tr.params.push_back(params[i]); // a few: no memcpy call
  tr.choices.push_back(c);
}

/// chassis_rt_choice past its fast path (runtime.h).
[[gnu::noinline]] int choiceSlow(JitRuntime& s, int32_t name, const double* idx, int64_t nIdx,
                                 int32_t dist, const double* params, int64_t n, double* value) {
  if (int rc = chassis_rt_check_params(dist, params, n)) return rc;
  JitTracing& t = *s.tracing;
  chassis::codegen::JitTrace& tr = t.trace;
  const chassis::codegen::JitTrace* from = t.replayFrom;
  const size_t pos = tr.choices.size();
  // The replayed choice (its position in `from`, -1: none).
  int64_t found = -1;
  uint32_t keyAt = 0, keyLen = 0;
  if (from && tr.sharedKeys && pos < from->choices.size() &&
      sameKey(from->key(from->choices[pos]), t.prefix, name, idx, nIdx)) {
    // Still in place: the key is from's at this position, already in the shared pool.
    found = int64_t(pos);
    keyAt = from->choices[pos].keyAt;
    keyLen = from->choices[pos].keyLen;
  } else {
    // The key is written in place at the end of the trace's own keys (dropped on a failure).
    tr.ownKeys();
    std::string& keys = tr.keys;
    keyAt = uint32_t(keys.size());
    keys.append(t.prefix);
    appendSegment(keys, name, idx, nIdx);
    keyLen = uint32_t(keys.size() - keyAt);
    const std::string_view key(keys.data() + keyAt, keyLen);
    if (from) {
      // Usually the choice at the same position has the same key; otherwise the index.
      if (pos < from->choices.size() && from->key(from->choices[pos]) == key) {
        found = int64_t(pos);
      } else if (t.replayIndex) {
        t.keyBuf.assign(key);
        if (auto it = t.replayIndex->find(t.keyBuf); it != t.replayIndex->end())
          found = int64_t(it->second);
      }
      if (found != int64_t(pos)) t.inPlace = false;
    }
  }
  double v = 0;
  // The replayed choice, and the log density of v under its distribution and parameters.
  const chassis::codegen::JitChoice* reused = nullptr;
  const double* knownLogProb = nullptr;
  if (found >= 0) {
    reused = &from->choices[size_t(found)];
    if (found == t.overrideAt) {
      v = t.overrideValue;
      knownLogProb = t.overrideLogProb;
    } else {
      v = reused->value;
      knownLogProb = &reused->logProb;
    }
  } else {
    if (chassis::isFlat(kind(dist))) {
      if (!tr.sharedKeys) tr.keys.resize(keyAt);
      return chassis::codegen::kFlatPrior;
    }
    v = chassis::symbolic::sample(kind(dist), paramSpan(params, n), *s.rng);
  }
  // A choice replayed under the same distribution and parameters (bit for bit) as in the replay
  // trace, at its value there or at the override whose log density is given, has that log
  // density: reused, not recomputed.
  // Normal's log(sigma) is kept with the choice: under the same parameters it is not recomputed.
  const bool sameParams = reused && reused->dist == dist && reused->paramLen == uint64_t(n) &&
                          sameBits(from->params.data() + reused->paramAt, params, n);
  const double logScale = sameParams                                          ? reused->logScale
                          : kind(dist) == chassis::DistKind::Normal && n == 2 ? std::log(params[1])
                                                                              : 0.0;
  const double lp =
      choiceLogDensity(dist, params, n, v, sameParams ? knownLogProb : nullptr, logScale);
  s.logPrior += lp;
  chassis::codegen::JitChoice c;
  c.keyAt = keyAt;
  c.keyLen = keyLen;
  c.dist = dist;
  c.replayed = found >= 0;
  c.value = v;
  c.logProb = lp;
  c.logScale = logScale;
  record(tr, c, params, n);
  *value = v;
  return chassis::codegen::kOk;
}
} // namespace

extern "C" {

int chassis_rt_choice(void* rt, int32_t name, const double* idx, int64_t nIdx, int32_t dist,
                      const double* params, int64_t n, double* value) {
  JitRuntime& s = state(rt);
  if (s.fast) chassis::codegen::leaveFastReplay(s); // a choice the generated check did not take
  JitTracing& t = *s.tracing;
  chassis::codegen::JitTrace& tr = t.trace;
  const chassis::codegen::JitTrace* from = t.replayFrom;
  const size_t pos = tr.choices.size();
  // The fast path (an MH proposal while the structure is fixed): the choice at the same position
  // of the replay trace, still in place (its key, in the shared pool, is this one's), recorded
  // by a run under the same distribution and parameters bit for bit. Those parameters passed
  // validateParams there, so they pass it here; the value is replayed (or the override) and
  // scored as choiceSlow scores it: the recorded log density, the given one of the override, or
  // (Normal) from the recorded log(sigma). choiceSlow does the rest, the same way.
  if (from && tr.sharedKeys && pos < from->choices.size()) {
    const chassis::codegen::JitChoice& r = from->choices[pos];
    if (r.checked && r.dist == dist && r.paramLen == uint64_t(n) &&
        sameBits(from->params.data() + r.paramAt, params, n) &&
        sameKey(from->key(r), t.prefix, name, idx, nIdx)) {
      const bool overridden = int64_t(pos) == t.overrideAt;
      const double v = overridden ? t.overrideValue : r.value;
      const double lp = choiceLogDensity(dist, params, n, v,
                                         overridden ? t.overrideLogProb : &r.logProb, r.logScale);
      s.logPrior += lp;
      // r's key, distribution, parameter count and log(sigma); this run's value and score.
      chassis::codegen::JitChoice& c = tr.choices.emplace_back(r);
      c.paramAt = uint32_t(tr.params.size());
      c.replayed = true;
      c.value = v;
      c.logProb = lp;
      tr.params.insert(tr.params.end(), params, params + n);
      *value = v;
      return chassis::codegen::kOk;
    }
  }
  return choiceSlow(s, name, idx, nIdx, dist, params, n, value);
}

void chassis_rt_enter(void* rt, int32_t name, const double* idx, int64_t nIdx) {
  if (state(rt).fast) chassis::codegen::leaveFastReplay(state(rt)); // keys with a prefix follow
  JitTracing& t = *state(rt).tracing;
  if (name < 0) { // a call from an expression: the interpreter runs it with an empty prefix
    t.marks.push_back(UINT32_MAX);
    t.saved.push_back(std::move(t.prefix));
    t.prefix.clear();
    return;
  }
  t.marks.push_back(uint32_t(t.prefix.size()));
  appendSegment(t.prefix, name, idx, nIdx);
}

void chassis_rt_leave(void* rt) {
  JitTracing& t = *state(rt).tracing;
  if (t.marks.empty()) return;
  const uint32_t mark = t.marks.back();
  t.marks.pop_back();
  if (mark == UINT32_MAX) {
    t.prefix = std::move(t.saved.back());
    t.saved.pop_back();
  } else {
    t.prefix.resize(mark);
  }
}

int chassis_rt_run_seeded(void* module, const double* in, double* out, uint64_t seed,
                          double* logWeight) {
  using ModuleFn = int (*)(const double*, double*, void*);
  chassis::Rng rng(seed);
  JitRuntime rt;
  rt.rng = &rng;
  const int rc = reinterpret_cast<ModuleFn>(module)(in, out, &rt);
  if (rc != chassis::codegen::kOk) return rc;
  if (logWeight)
    *logWeight = rt.conditionFailed ? -std::numeric_limits<double>::infinity()
                                    : rt.logLikelihood + rt.logFactor;
  return rt.conditionFailed ? chassis::codegen::kConditionFailed : chassis::codegen::kOk;
}

} // extern "C"
