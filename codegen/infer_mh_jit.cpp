// Traced compiled runs and single-site MH on them (see infer_mh_jit.h; the interpreted original
// of the chain is symbolic/infer_mh.cpp, whose steps Chain below follows one for one).
#include "codegen/infer_mh_jit.h"

#include "spec/run_control.h"
#include "symbolic/distributions.h"
#include "symbolic/special.h"

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <unordered_set>

namespace chassis::codegen {

using namespace chassis::symbolic;

std::string choiceAddress(const JitModel& model, std::string_view key) {
  std::string a;
  size_t pos = 0;
  const auto& names = model.choiceNames();
  while (pos + 8 <= key.size()) {
    int32_t name = 0, count = 0;
    std::memcpy(&name, key.data() + pos, 4);
    std::memcpy(&count, key.data() + pos + 4, 4);
    pos += 8;
    if (!a.empty()) a += "/";
    a += name >= 0 && size_t(name) < names.size() ? names[size_t(name)] : "?";
    for (int32_t k = 0; k < count && pos + 8 <= key.size(); ++k, pos += 8) {
      double v = 0;
      std::memcpy(&v, key.data() + pos, 8);
      a += "[" + formatNumber(v) + "]";
    }
  }
  return a;
}

std::optional<std::string> choiceKey(const JitModel& model, std::string_view address) {
  const auto& names = model.choiceNames();
  std::string key;
  size_t pos = 0;
  while (pos <= address.size()) {
    size_t end = address.find('/', pos);
    if (end == std::string_view::npos) end = address.size();
    std::string_view seg = address.substr(pos, end - pos);
    const size_t br = std::min(seg.find('['), seg.size());
    const std::string_view name = seg.substr(0, br);
    int32_t id = -1;
    for (size_t k = 0; k < names.size(); ++k)
      if (names[k] == name) id = int32_t(k);
    if (id < 0) return std::nullopt;
    std::vector<double> idx;
    for (size_t i = br; i < seg.size();) {
      if (seg[i] != '[') return std::nullopt;
      const size_t close = seg.find(']', i);
      if (close == std::string_view::npos) return std::nullopt;
      double v = 0;
      auto res = std::from_chars(seg.data() + i + 1, seg.data() + close, v);
      if (res.ec != std::errc() || res.ptr != seg.data() + close) return std::nullopt;
      idx.push_back(v);
      i = close + 1;
    }
    const int32_t count = int32_t(idx.size());
    key.append(reinterpret_cast<const char*>(&id), 4);
    key.append(reinterpret_cast<const char*>(&count), 4);
    key.append(reinterpret_cast<const char*>(idx.data()), idx.size() * 8);
    pos = end + 1;
  }
  // Only text the interpreter forms names a choice ("x[03]" is not "x[3]").
  if (choiceAddress(model, key) != address) return std::nullopt;
  return key;
}

namespace {

std::vector<double> flatInputs(std::span<const Value> inputs) {
  std::vector<double> in;
  for (const Value& v : inputs) {
    if (v.a.empty())
      in.push_back(v.s);
    else
      in.insert(in.end(), v.a.begin(), v.a.end());
  }
  return in;
}

/// The interpreter's error for a compiled run that failed with code `rc`: the interpreter re-runs
/// from the generator state `before` with the same options.
Error interpretedError(const ir::Function& f, std::span<const Value> inputs, const Rng& before,
                       const RunOptions& options, const JitModel& model, int rc, int errSite) {
  Rng again = before;
  auto r = symbolic::run(f, inputs, again, options);
  if (!r) return r.error();
  return Error(model.siteLocation(errSite), "compiled code failed (" +
                                                std::string(errorCodeName(rc)) +
                                                ") where the interpreter did not: a bug of the "
                                                "JIT back end");
}

/// One compiled run's result: its choices, totals and outputs.
struct State {
  JitTrace trace;
  double logPrior = 0, logLikelihood = 0, logFactor = 0;
  bool conditionFailed = false;
  int numObserves = 0, numFactors = 0, numConditions = 0;
  std::vector<double> out;
  double logJoint() const {
    return logPrior +
           (conditionFailed ? -std::numeric_limits<double>::infinity() : logLikelihood + logFactor);
  }
};

/// Runs the model once, traced, into `dst` (replaying what `tracing` says); returns its code.
int runTraced(const JitModel& model, const std::vector<double>& in, Rng& rng,
              JitTracing& tracing, State& dst, int& errSite) {
  tracing.reset();
  JitRuntime rt;
  rt.rng = &rng;
  rt.tracing = &tracing;
  dst.out.resize(model.numOutputs() + 1);
  const int rc = model(in.data(), dst.out.data(), rt);
  errSite = rt.errSite;
  std::swap(dst.trace, tracing.trace); // the buffers go back and forth, not reallocated
  dst.logPrior = rt.logPrior;
  dst.logLikelihood = rt.logLikelihood;
  dst.logFactor = rt.logFactor;
  dst.conditionFailed = rt.conditionFailed != 0;
  dst.numObserves = rt.numObserves;
  dst.numFactors = rt.numFactors;
  dst.numConditions = rt.numConditions;
  return rc;
}

/// The interpreter's replay map of `t`'s values, with `address` at `value` when not empty.
std::unordered_map<std::string, double> replayMap(const JitModel& model, const JitTrace& t) {
  std::unordered_map<std::string, double> m;
  for (const JitChoice& c : t.choices)
    m.emplace(choiceAddress(model, t.key(c)), c.value);
  return m;
}

constexpr double kTargetAccept = 0.44; // infer_mh.cpp's

struct Step {
  double logStep = 0;
  size_t updates = 0;
};

class Chain {
public:
  Chain(const ir::Function& f, std::span<const Value> inputs, const std::vector<double>& in,
        const JitModel& model, Rng rng)
      : f_(f), inputs_(inputs), in_(in), model_(model), rng_(rng) {}

  Status init() {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      const Rng before = rng_;
      tracing_.replayFrom = nullptr;
      tracing_.replayIndex = nullptr;
      tracing_.overrideAt = -1;
      int errSite = -1;
      if (int rc = runTraced(model_, in_, rng_, tracing_, cur_, errSite); rc != kOk)
        return interpretedError(f_, inputs_, before, {}, model_, rc, errSite);
      if (std::isfinite(cur_.logJoint())) {
        indexTrace(cur_.trace, index_);
        sweep_ = std::max<size_t>(1, cur_.trace.choices.size());
        return Status::ok();
      }
    }
    return Error(f_.loc(), "MH: no trace of positive weight in 1000 prior draws of '" + f_.name() +
                               "' (the evidence may be impossible, or too unlikely to start "
                               "from the prior)");
  }

  Expected<bool> move(bool adapt) {
    const JitTrace& tr = cur_.trace;
    const size_t n = tr.choices.size();
    if (n == 0) return false;
    const size_t k = std::min(n - 1, size_t(rng_.uniform() * double(n)));
    const JitChoice site = tr.choices[k];
    const DistKind dist = DistKind(site.dist);
    siteParams_.assign(tr.paramsOf(site).begin(), tr.paramsOf(site).end());
    const bool continuous = !signature(dist).discrete;
    const bool walk = continuous && rng_.uniform() < 0.5;
    double x;
    double siteCorrection = 0;
    Step* step = nullptr;
    if (walk) {
      // The step of the site's address (cached by position while the keys stay in place).
      if (stepAt_.size() != n) stepAt_.assign(n, nullptr);
      step = stepAt_[k];
      if (!step) {
        siteKey_.assign(tr.key(site));
        auto it = steps_.find(siteKey_);
        if (it == steps_.end()) {
          auto var = variance(dist, siteParams_);
          Step s;
          s.logStep = var && std::isfinite(*var) && *var > 0 ? 0.5 * std::log(*var) : 0.0;
          it = steps_.emplace(siteKey_, s).first;
        }
        step = stepAt_[k] = &it->second;
      }
      x = site.value + std::exp(step->logStep) * rng_.normal();
    } else {
      x = sample(dist, siteParams_, rng_);
      siteCorrection = site.logProb - logDensity(dist, siteParams_, x);
    }
    tracing_.replayFrom = &cur_.trace;
    tracing_.replayIndex = &index_;
    tracing_.overrideAt = int64_t(k);
    tracing_.overrideValue = x;
    const Rng before = rng_;
    int errSite = -1;
    const int rc = runTraced(model_, in_, rng_, tracing_, prop_, errSite);
    bool accept = false;
    if (rc != kOk) {
      // As interpreted: a proposal outside the support that makes the model fail is rejected;
      // otherwise the error is the model's (the interpreter's, from the same state).
      if (std::isfinite(logDensity(dist, siteParams_, x))) {
        auto replay = replayMap(model_, cur_.trace);
        replay[choiceAddress(model_, cur_.trace.key(site))] = x;
        RunOptions ro;
        ro.replay = &replay;
        return interpretedError(f_, inputs_, before, ro, model_, rc, errSite);
      }
    } else if (std::isfinite(prop_.logJoint())) {
      const JitTrace& nt = prop_.trace;
      double logAlpha = prop_.logJoint() - cur_.logJoint() + siteCorrection;
      const size_t n2 = nt.choices.size();
      if (n2 != n) logAlpha += std::log(double(n)) - std::log(double(n2)); // else += 0.0
      bool changed = false;
      for (const JitChoice& c : nt.choices)
        if (!c.replayed) {
          logAlpha -= c.logProb; // fresh
          changed = true;
        }
      if (changed || n2 != n) {
        std::unordered_set<std::string_view> now;
        for (const JitChoice& c : nt.choices) now.insert(nt.key(c));
        for (const JitChoice& c : tr.choices)
          if (!now.count(tr.key(c))) {
            logAlpha += c.logProb; // stale
            changed = true;
          }
      }
      accept = std::log(rng_.uniform()) < logAlpha;
      if (accept) {
        // Every choice replayed from its own position, as many choices: the same keys in place.
        const bool sameKeys = !changed && n2 == n && tracing_.inPlace;
        std::swap(cur_, prop_);
        if (!sameKeys) {
          indexTrace(cur_.trace, index_);
          stepAt_.clear();
        }
      }
    }
    if (step && adapt) {
      ++step->updates;
      step->logStep += ((accept ? 1.0 : 0.0) - kTargetAccept) / std::pow(double(step->updates), 0.6);
    }
    return accept;
  }

  Expected<size_t> sweep(bool adapt) {
    size_t acc = 0;
    for (size_t i = 0; i < sweep_; ++i) {
      auto a = move(adapt);
      if (!a) return a.error();
      acc += *a;
    }
    return acc;
  }

  size_t sweepSize() const { return sweep_; }
  const State& current() const { return cur_; }
  const JitTraceIndex& index() const { return index_; }

private:
  const ir::Function& f_;
  std::span<const Value> inputs_;
  const std::vector<double>& in_;
  const JitModel& model_;
  Rng rng_;
  State cur_, prop_;
  JitTracing tracing_;
  JitTraceIndex index_; // of cur_.trace
  size_t sweep_ = 1;
  std::vector<double> siteParams_;
  std::string siteKey_;
  std::unordered_map<std::string, Step> steps_; // by key (the interpreter's, by address)
  std::vector<Step*> stepAt_; // steps_ of cur_'s choices by position, null: not looked up yet
};

} // namespace

Expected<RunResult> runCompiled(const ir::Function& f, std::span<const Value> inputs, Rng& rng,
                                const JitModel& model, const RunOptions& options) {
  if (options.stopAfterObserves >= 0)
    return Error(f.loc(), "--backend=jit: runs stopped after some observes (SMC's) are not "
                          "compiled yet: use --backend=interp");
  const Rng before = rng;
  // Bad inputs: the interpreter's error.
  if (inputs.size() != f.inputs().size()) return symbolic::run(f, inputs, rng, options);
  for (size_t k = 0; k < inputs.size(); ++k)
    if (checkInput(f, k, inputs[k])) return symbolic::run(f, inputs, rng, options);
  const std::vector<double> in = flatInputs(inputs);
  JitTrace replayTrace;
  JitTraceIndex replayIndex;
  JitTracing tracing;
  if (options.replay) {
    for (const auto& [address, value] : *options.replay) {
      auto key = choiceKey(model, address);
      if (!key) continue; // an address no run forms replays nothing
      JitChoice c;
      c.keyAt = uint32_t(replayTrace.keys.size());
      c.keyLen = uint32_t(key->size());
      c.value = value;
      replayTrace.keys += *key;
      replayTrace.choices.push_back(c);
    }
    indexTrace(replayTrace, replayIndex);
    tracing.replayFrom = &replayTrace;
    tracing.replayIndex = &replayIndex;
  }
  State st;
  int errSite = -1;
  if (int rc = runTraced(model, in, rng, tracing, st, errSite); rc != kOk)
    return interpretedError(f, inputs, before, options, model, rc, errSite);
  RunResult r;
  size_t pos = 0;
  for (const ir::Var* o : f.outputs()) {
    const size_t n = o->type().numScalars();
    if (o->type().isArray())
      r.outputs.push_back(Value::array({st.out.begin() + long(pos), st.out.begin() + long(pos + n)}));
    else
      r.outputs.push_back(Value::scalar(st.out[pos]));
    pos += n;
  }
  Trace& t = r.trace;
  t.logPrior = st.logPrior;
  t.logLikelihood = st.logLikelihood;
  t.logFactor = st.logFactor;
  t.conditionFailed = st.conditionFailed;
  t.numObserves = st.numObserves;
  t.numFactors = st.numFactors;
  t.numConditions = st.numConditions;
  if (options.recordChoices)
    for (const JitChoice& c : st.trace.choices) {
      auto ps = st.trace.paramsOf(c);
      t.choices.push_back({choiceAddress(model, st.trace.key(c)), DistKind(c.dist),
                           std::vector<double>(ps.begin(), ps.end()), c.value, c.logProb,
                           c.replayed});
    }
  return r;
}

Expected<MhRun> runMhChainsCompiled(const ir::Function& f, std::span<const Value> inputs,
                                    const InferOptions& options, std::span<const size_t> chainIds,
                                    const JitModel& model) {
  if (options.samples < 4) return Error("--samples must be at least 4 for MH");
  if (options.chains == 0) return Error("--chains must be at least 1");
  const size_t thin = std::max<size_t>(1, options.thin);
  const Rng base(options.seed);
  Rng probeRng = base.split(~uint64_t(0));
  auto probe = symbolic::run(f, inputs, probeRng);
  if (!probe) return probe.error();
  auto qs = resolveQuery(f, options.query, &probe->trace);
  if (!qs) return qs.error();
  for (size_t k = 0; k < inputs.size(); ++k)
    if (auto why = checkInput(f, k, inputs[k])) return Error(f.loc(), *why);
  const std::vector<double> in = flatInputs(inputs);
  // Where each quantity is read: an output element of the out buffer, or a choice key.
  std::vector<size_t> outOffset;
  size_t off = 0;
  for (const ir::Var* o : f.outputs()) {
    outOffset.push_back(off);
    off += o->type().numScalars();
  }
  struct Read {
    size_t at = 0;
    std::optional<std::string> key; // a choice (nullopt and choice: never present)
    bool choice = false;
  };
  std::vector<Read> reads;
  for (const Quantity& q : *qs) {
    Read r;
    if (q.output >= 0) {
      r.at = outOffset[size_t(q.output)] + size_t(std::max(q.element, 0));
    } else {
      r.choice = true;
      r.key = choiceKey(model, q.address);
    }
    reads.push_back(std::move(r));
  }

  std::vector<size_t> ids(chainIds.begin(), chainIds.end());
  if (ids.empty())
    for (size_t c = 0; c < options.chains; ++c) ids.push_back(c);
  const size_t K = ids.size(), N = options.samples;
  std::vector<MhChain> outs(K);
  const size_t total = K * (options.warmup + N * thin);
  std::atomic<size_t> done{0};
  std::mutex progressMutex;
  auto report = [&](size_t d) {
    if (!options.progress) return;
    std::lock_guard<std::mutex> lock(progressMutex);
    options.progress(double(d) / double(total));
  };
  Status st = runParallel(K, options.threads, [&](size_t k) -> Status {
    Chain chain(f, inputs, in, model, base.split(ids[k]));
    if (Status s = chain.init(); !s) return s;
    MhChain& out = outs[k];
    out.draws.assign(reads.size(), std::vector<double>());
    for (auto& d : out.draws) d.reserve(N);
    const size_t every = std::max<size_t>(1, total / 200);
    for (size_t it = 0; it < options.warmup + N * thin; ++it) {
      if (run::stopRequested()) return Error("stopped: " + run::stopMessage());
      const bool warm = it < options.warmup;
      const size_t moves = chain.sweepSize();
      auto a = chain.sweep(warm);
      if (!a) return a.error();
      if (!warm) {
        out.accepted += *a;
        out.proposed += moves;
        if ((it - options.warmup + 1) % thin == 0) {
          const State& cur = chain.current();
          for (size_t q = 0; q < reads.size(); ++q) {
            double v = std::numeric_limits<double>::quiet_NaN();
            if (!reads[q].choice) {
              v = cur.out[reads[q].at];
            } else if (reads[q].key) {
              if (auto c = chain.index().find(*reads[q].key); c != chain.index().end())
                v = cur.trace.choices[c->second].value;
            }
            out.draws[q].push_back(v);
          }
        }
      }
      if (size_t d = ++done; d % every == 0) report(d);
    }
    return Status::ok();
  });
  if (!st) return st.error();
  return MhRun{std::move(*qs), std::move(outs), N};
}

Expected<Posterior> inferMhCompiled(const ir::Function& f, std::span<const Value> inputs,
                                    const InferOptions& options, const JitModel& model) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = runMhChainsCompiled(f, inputs, options, {}, model);
  if (!r) return r.error();
  return mhPosterior(std::move(*r),
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

} // namespace chassis::codegen
