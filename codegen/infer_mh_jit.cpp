// Traced compiled runs and single-site MH on them (see infer_mh_jit.h): the chain is
// symbolic/mh_driver.h's, over CompiledRunner.
#include "codegen/infer_mh_jit.h"

#include "spec/run_control.h"
#include "symbolic/distributions.h"
#include "symbolic/mh_driver.h"
#include "symbolic/special.h"

#include <atomic>
#include <bit>
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
/// `where`: the failing site, for the error when the interpreter does not fail.
Error interpretedError(const ir::Function& f, std::span<const Value> inputs, const Rng& before,
                       const RunOptions& options, const SourceLoc& where, int rc) {
  Rng again = before;
  auto r = symbolic::run(f, inputs, again, options);
  if (!r) return r.error();
  return Error(where, "compiled code failed (" + std::string(errorCodeName(rc)) +
                          ") where the interpreter did not: a bug of the JIT back end");
}
Error interpretedError(const ir::Function& f, std::span<const Value> inputs, const Rng& before,
                       const RunOptions& options, const JitModel& model, int rc, int errSite) {
  return interpretedError(f, inputs, before, options, model.siteLocation(errSite), rc);
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

/// The interpreter's replay map of `t`'s values.
std::unordered_map<std::string, double> replayMap(const JitModel& model, const JitTrace& t) {
  std::unordered_map<std::string, double> m;
  for (const JitChoice& c : t.choices)
    m.emplace(choiceAddress(model, t.key(c)), c.value);
  return m;
}

/// Where a quantity is read in a compiled run: an output element of the out buffer, or a choice
/// key (nullopt for a choice no run forms: always absent).
struct QuantityRead {
  size_t at = 0;
  bool choice = false;
  std::optional<std::string> key;
};

std::vector<QuantityRead> quantityReads(const ir::Function& f, std::span<const Quantity> qs,
                                        const JitModel& model) {
  std::vector<size_t> outOffset;
  size_t off = 0;
  for (const ir::Var* o : f.outputs()) {
    outOffset.push_back(off);
    off += o->type().numScalars();
  }
  std::vector<QuantityRead> reads;
  for (const Quantity& q : qs) {
    QuantityRead r;
    if (q.output >= 0) {
      r.at = outOffset[size_t(q.output)] + size_t(std::max(q.element, 0));
    } else {
      r.choice = true;
      r.key = choiceKey(model, q.address);
    }
    reads.push_back(std::move(r));
  }
  return reads;
}

/// The chain's trace run by compiled code (symbolic/mh_driver.h's runner). Two runs, the current
/// one and the proposal's, trade places on acceptance (no copy); a proposal replays from the
/// current trace by position while its keys stay in place (runtime.h JitTracing), so the index
/// of the current keys and the steps cached by position are rebuilt only when the structure
/// changes.
class CompiledRunner {
public:
  CompiledRunner(const ir::Function& f, std::span<const Value> inputs,
                 const std::vector<double>& in, const JitModel& model,
                 const std::vector<QuantityRead>& reads, Rng& rng)
      : f_(f), inputs_(inputs), in_(in), model_(model), reads_(reads), rng_(rng) {
    for (std::vector<double>& o : outs_) o.resize(model_.numOutputs() + 1);
    for (Run& r : runs_) { // fixed for the runner's life (runInto resets the rest)
      r.rt.rng = &rng_;
      r.rt.tracing = &r.tracing;
    }
    for (const QuantityRead& r : reads_) {
      outputsOnly_ = outputsOnly_ && !r.choice;
      outAt_.push_back(r.at);
    }
  }
  CompiledRunner(const CompiledRunner&) = delete; // cur_ and prop_ point into it
  CompiledRunner& operator=(const CompiledRunner&) = delete;

  Status start() {
    const Rng before = rng_;
    Run& c = cur();
    c.tracing.replayFrom = nullptr;
    c.tracing.replayIndex = nullptr;
    c.tracing.overrideAt = -1;
    c.tracing.overrideLogProb = nullptr;
    if (int rc = runInto(c, curOut()); rc != kOk)
      return interpretedError(f_, inputs_, before, {}, model_, rc, c.rt.errSite);
    indexTrace(cur().trace(), index_);
    stepAt_.assign(cur().trace().choices.size(), nullptr);
    replayCurrent();
    return Status::ok();
  }
  double logJoint() const { return cur().logJoint; }
  size_t size() const { return size_; }
  MhSite site(size_t k) const {
    const JitTrace& t = cur().trace();
    const JitChoice& c = t.choices[k];
    return {DistKind(c.dist), t.paramsOf(c), c.value, c.logProb};
  }
  double siteLogDensity(size_t k, double x) const {
    const JitTrace& t = cur().trace();
    const JitChoice& c = t.choices[k];
    if (DistKind(c.dist) == DistKind::Normal && c.paramLen == 2)
      return normalLogDensity(t.params.data() + c.paramAt, c.logScale, x);
    return logDensity(DistKind(c.dist), t.paramsOf(c), x);
  }
  MhStep& step(size_t k) {
    MhStep* s = stepAt_[k];
    return s ? *s : lookUpStep(k); // inline: the lookup by key is once per position
  }

  bool propose(size_t k, double x, const double* logProbX) {
    Run& p = prop(); // replaying cur() (replayCurrent)
    p.tracing.overrideAt = int64_t(k);
    p.tracing.overrideValue = x;
    p.tracing.overrideLogProb = logProbX;
    // The generated code replays in place without recording while it can (runtime.h).
    JitFastReplay& f = fast_;
    f.pos = 0;
    f.overrideAt = int64_t(k);
    f.overrideValue = x;
    f.overrideLogProb = logProbX;
    before_ = rng_;
    rc_ = runInto(p, outs_[curOut_ ^ 1].data(), &f);
    // Still in place at the end with every choice replayed: the proposal is the current trace
    // with the override (accept() writes it there). Fewer choices: its trace is written out.
    implied_ = p.rt.fast != nullptr;
    if (implied_ && (rc_ != kOk || f.pos != f.count)) {
      leaveFastReplay(p.rt);
      implied_ = false;
    }
    // A run that stayed in place recorded nothing (the generated code writes no trace, and
    // entering a call site leaves the mode): the next proposal's reset() can be skipped.
    p.clean = implied_;
    return rc_ == kOk;
  }
  /// The interpreter's error, from the same generator state and replayed values.
  Error proposalError(size_t k, double x) const {
    auto replay = replayMap(model_, cur().trace());
    replay[choiceAddress(model_, cur().trace().key(cur().trace().choices[k]))] = x;
    RunOptions ro;
    ro.replay = &replay;
    return interpretedError(f_, inputs_, before_, ro, model_, rc_, prop().rt.errSite);
  }
  double proposalLogJoint() const { return prop().logJoint; }
  size_t proposalSize() const { return implied_ ? size() : prop().trace().choices.size(); }
  double subtractFresh(double logAlpha, bool& changed) const {
    if (implied_) return logAlpha; // every choice replayed
    for (const JitChoice& c : prop().trace().choices)
      if (!c.replayed) {
        logAlpha -= c.logProb;
        changed = true;
      }
    return logAlpha;
  }
  double addStale(double logAlpha, bool& changed) const {
    const JitTrace &nt = prop().trace(), &tr = cur().trace();
    std::unordered_set<std::string_view> now;
    for (const JitChoice& c : nt.choices) now.insert(nt.key(c));
    for (const JitChoice& c : tr.choices)
      if (!now.count(tr.key(c))) {
        logAlpha += c.logProb;
        changed = true;
      }
    return logAlpha;
  }
  /// An in-place proposal (the current trace with the override: the same keys and steps)
  /// accepted or not by selecting bits (no branch on `accept`); false for any other.
  bool settleInPlace(bool accept) {
    if (!implied_) return false;
    JitChoice& c = cur().tracing.trace.choices[size_t(fast_.overrideAt)];
    const uint64_t take = uint64_t(0) - uint64_t(accept); // all ones when accepted
    auto pick = [take](double now, double proposed) {
      return std::bit_cast<double>((std::bit_cast<uint64_t>(now) & ~take) |
                                   (std::bit_cast<uint64_t>(proposed) & take));
    };
    c.value = pick(c.value, fast_.overrideValue);
    c.logProb = pick(c.logProb, fast_.overrideScore);
    c.replayed = c.replayed | accept;
    cur().logJoint = pick(cur().logJoint, prop().logJoint);
    curOut_ ^= unsigned(accept); // the proposal's outputs become the current ones
    return true;
  }
  void accept(bool changed) {
    if (settleInPlace(true)) return;
    // Every choice replayed from its own position, as many choices: the same keys in place.
    const bool sameKeys = !changed && prop().trace().choices.size() == size() && prop().tracing.inPlace;
    // A proposal whose keys stayed in place wrote none: it takes the current trace's pool over.
    prop().tracing.trace.adoptKeys(cur().tracing.trace.keys);
    std::swap(cur_, prop_);
    curOut_ ^= 1;
    if (!sameKeys) {
      indexTrace(cur().trace(), index_);
      stepAt_.assign(cur().trace().choices.size(), nullptr);
    }
    replayCurrent();
  }
  void reject(size_t) {}
  void append(std::vector<std::vector<double>>& draws) const {
    if (!outputsOnly_) {
      read(values_);
      for (size_t q = 0; q < values_.size(); ++q) draws[q].push_back(values_[q]);
      return;
    }
    // (Locals: the vectors' stores would make the compiler reload the fields each time.)
    const double* out = curOut();
    const size_t* at = outAt_.data();
    std::vector<double>* d = draws.data();
    for (size_t q = 0, nq = outAt_.size(); q < nq; ++q) d[q].push_back(out[at[q]]);
  }
  void read(std::vector<double>& values) const {
    values.resize(reads_.size());
    const Run& s = cur();
    const double* out = curOut();
    if (outputsOnly_) { // the common case: elements of the output buffer
      for (size_t q = 0; q < outAt_.size(); ++q) values[q] = out[outAt_[q]];
      return;
    }
    for (size_t q = 0; q < reads_.size(); ++q) {
      double v = std::numeric_limits<double>::quiet_NaN();
      if (!reads_[q].choice) {
        v = out[reads_[q].at];
      } else if (reads_[q].key) {
        if (auto c = index_.find(*reads_[q].key); c != index_.end())
          v = s.trace().choices[c->second].value;
      }
      values[q] = v;
    }
  }

private:
  [[gnu::noinline]] MhStep& lookUpStep(size_t k) {
    MhStep*& s = stepAt_[k];
    s = &steps_[std::string(cur().trace().key(cur().trace().choices[k]))];
    return *s;
  }
  /// One traced run: what it records and replays, its totals (its outputs: outs_).
  struct Run {
    JitTracing tracing;
    JitRuntime rt;
    double logJoint = 0;
    /// `tracing` is as reset() leaves it for its replayFrom: the last run ended in place
    /// (JitFastReplay) having written nothing to it, and replayFrom did not change since.
    bool clean = false;
    const JitTrace& trace() const { return tracing.trace; }
  };
  /// Makes the proposal's run replay the current trace (after it changed: its pools may have
  /// moved; an accepted in-place proposal changes none).
  void replayCurrent() {
    const JitTrace& from = cur().trace();
    prop().tracing.replayFrom = &from;
    prop().tracing.replayIndex = &index_;
    prop().clean = false; // its shared key pool is now from's
    fast_.choices = from.choices.data();
    fast_.params = from.params.data();
    fast_.keys = from.keyPool().data();
    fast_.count = int64_t(from.choices.size());
    size_ = from.choices.size();
  }
  /// Runs the model once into `r` and `out` (replaying what r.tracing says); returns its code.
  int runInto(Run& r, double* out, JitFastReplay* fast = nullptr) {
    if (!r.clean) r.tracing.reset();
    r.clean = false;
    r.rt.resetRun(); // rng and tracing stay as the constructor set them
    r.rt.fast = fast;
    const int rc = model_(in_.data(), out, r.rt);
    r.logJoint = r.rt.logPrior + (r.rt.conditionFailed ? -std::numeric_limits<double>::infinity()
                                                       : r.rt.logLikelihood + r.rt.logFactor);
    return rc;
  }
  Run& cur() { return *cur_; }
  const double* curOut() const { return outs_[curOut_].data(); }
  double* curOut() { return outs_[curOut_].data(); }
  const Run& cur() const { return *cur_; }
  Run& prop() { return *prop_; }
  const Run& prop() const { return *prop_; }

  const ir::Function& f_;
  std::span<const Value> inputs_;
  const std::vector<double>& in_;
  const JitModel& model_;
  const std::vector<QuantityRead>& reads_;
  std::vector<size_t> outAt_; // reads_[q].at
  mutable std::vector<double> values_; // append()'s buffer for reads of choices
  bool outputsOnly_ = true;   // no read of a choice
  Rng& rng_;
  Rng before_{0}; // the generator before the last proposal's run
  int rc_ = kOk;
  Run runs_[2];
  Run* cur_ = &runs_[0];  // the current trace's run
  Run* prop_ = &runs_[1]; // the proposal's
  // The outputs of the current trace's run (outs_[curOut_]) and of the proposal's (the other):
  // an accepted proposal's become the current ones by flipping curOut_.
  std::vector<double> outs_[2];
  unsigned curOut_ = 0;
  JitFastReplay fast_; // the last proposal's in-place replay
  size_t size_ = 0;    // cur()'s number of choices (set with replayCurrent)
  bool implied_ = false; // the last proposal ended in place: its trace is cur()'s with the override
  JitTraceIndex index_;                          // of cur().trace()
  std::unordered_map<std::string, MhStep> steps_; // by key (the interpreter's, by address)
  std::vector<MhStep*> stepAt_; // steps_ of cur()'s choices by position, null: not looked up yet
};

} // namespace

Error compiledRunError(const ir::Function& f, std::span<const Value> inputs, int code) {
  return interpretedError(f, inputs, Rng(0), {}, f.loc(), code); // no draw: any generator
}

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
  auto qs = mhQuantities(f, inputs, options);
  if (!qs) return qs.error();
  for (size_t k = 0; k < inputs.size(); ++k)
    if (auto why = checkInput(f, k, inputs[k])) return Error(f.loc(), *why);
  const std::vector<double> in = flatInputs(inputs);
  const std::vector<QuantityRead> reads = quantityReads(f, *qs, model);
  return runMhChainsOn<CompiledRunner>(f, options, chainIds, std::move(*qs), [&](Rng& rng) {
    return CompiledRunner(f, inputs, in, model, reads, rng);
  });
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
