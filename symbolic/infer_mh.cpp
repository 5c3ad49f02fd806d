// Single-site trace Metropolis-Hastings (see infer_mh.h for the algorithm and its acceptance
// ratio) on the interpreter: mh_driver.h's chain over InterpretedRunner.
#include "symbolic/infer_mh.h"

#include "spec/run_control.h"
#include "symbolic/distributions.h"
#include "symbolic/mh_driver.h"
#include "symbolic/summary.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>
#include <unordered_set>

namespace chassis::symbolic {

Status runParallel(size_t n, int threads, const std::function<Status(size_t)>& job) {
  std::vector<Status> results(n);
  std::atomic<size_t> next{0};
  auto worker = [&]() {
    for (size_t k; (k = next++) < n;) results[k] = job(k);
  };
  const size_t t = std::min<size_t>(n, size_t(std::max(1, threads)));
  std::vector<std::thread> pool;
  for (size_t i = 1; i < t; ++i) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  for (auto& s : results)
    if (!s) return s;
  return Status::ok();
}

namespace {

/// The chain's trace run by the interpreter (mh_driver.h's runner): the current RunResult, the
/// replay map of its values, the proposal's run.
class InterpretedRunner {
public:
  InterpretedRunner(const ir::Function& f, std::span<const Value> inputs, Rng& rng)
      : f_(f), inputs_(inputs), rng_(rng) {}

  Status start() {
    auto r = run(f_, inputs_, rng_);
    if (!r) return r.error();
    cur_ = std::move(*r);
    if (std::isfinite(cur_.trace.logJoint())) replay_ = cur_.trace.values();
    return Status::ok();
  }
  double logJoint() const { return cur_.trace.logJoint(); }
  size_t size() const { return cur_.trace.choices.size(); }
  MhSite site(size_t k) const {
    const Choice& c = cur_.trace.choices[k];
    return {c.dist, c.params, c.value, c.logProb};
  }
  MhStep& step(size_t k) { return steps_[cur_.trace.choices[k].address]; }

  bool propose(size_t k, double x, const double*) {
    slot_ = &replay_[cur_.trace.choices[k].address];
    old_ = *slot_;
    *slot_ = x;
    RunOptions ro;
    ro.replay = &replay_;
    prop_ = run(f_, inputs_, rng_, ro);
    return bool(prop_);
  }
  Error proposalError(size_t, double) const { return prop_.error(); }
  double proposalLogJoint() const { return prop_->trace.logJoint(); }
  size_t proposalSize() const { return prop_->trace.choices.size(); }
  double subtractFresh(double logAlpha, bool& changed) const {
    for (const Choice& c : prop_->trace.choices)
      if (!c.replayed) {
        logAlpha -= c.logProb;
        changed = true;
      }
    return logAlpha;
  }
  double addStale(double logAlpha, bool& changed) const {
    std::unordered_set<std::string_view> now;
    for (const Choice& c : prop_->trace.choices) now.insert(c.address);
    for (const Choice& c : cur_.trace.choices)
      if (!now.count(c.address)) {
        logAlpha += c.logProb;
        changed = true;
      }
    return logAlpha;
  }
  void accept(bool changed) {
    cur_ = std::move(*prop_);
    if (changed) replay_ = cur_.trace.values();
  }
  void reject(size_t) { *slot_ = old_; }
  void read(std::vector<double>& values) const { readQuantities(qs_, cur_, values); }
  void setQuantities(std::span<const Quantity> qs) { qs_ = qs; }

private:
  const ir::Function& f_;
  std::span<const Value> inputs_;
  Rng& rng_;
  RunResult cur_;
  Expected<RunResult> prop_ = RunResult{};
  std::unordered_map<std::string, double> replay_;
  double* slot_ = nullptr; // the proposed site's entry in replay_, and its value before
  double old_ = 0;
  std::unordered_map<std::string, MhStep> steps_;
  std::span<const Quantity> qs_;
};

} // namespace

Expected<Posterior> inferMh(const ir::Function& f, std::span<const Value> inputs,
                            const InferOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = runMhChains(f, inputs, options, {});
  if (!r) return r.error();
  return mhPosterior(std::move(*r),
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

Expected<std::vector<Quantity>> mhQuantities(const ir::Function& f, std::span<const Value> inputs,
                                             const InferOptions& options) {
  if (options.samples < 4) return Error("--samples must be at least 4 for MH");
  if (options.chains == 0) return Error("--chains must be at least 1");
  Rng probeRng = Rng(options.seed).split(~uint64_t(0));
  auto probe = run(f, inputs, probeRng);
  if (!probe) return probe.error();
  return resolveQuery(f, options.query, &probe->trace);
}

Expected<MhRun> runMhChains(const ir::Function& f, std::span<const Value> inputs,
                            const InferOptions& options, std::span<const size_t> chainIds) {
  auto qs = mhQuantities(f, inputs, options);
  if (!qs) return qs.error();
  const std::vector<Quantity>& quantities = *qs;
  return runMhChainsOn<InterpretedRunner>(f, options, chainIds, quantities,
                                          [&](Rng& rng) {
                                            InterpretedRunner r(f, inputs, rng);
                                            r.setQuantities(quantities);
                                            return r;
                                          });
}

Expected<Posterior> mhPosterior(MhRun run, double seconds) {
  Posterior p;
  p.method = InferMethod::MH;
  p.quantities = std::move(run.quantities);
  const size_t K = run.chains.size(), nq = p.quantities.size();
  p.chains = K;
  p.samplesPerChain = run.samples;
  p.draws.assign(nq, {});
  size_t acc = 0, prop = 0;
  for (size_t c = 0; c < K; ++c) {
    for (size_t q = 0; q < nq; ++q) p.draws[q].push_back(std::move(run.chains[c].draws[q]));
    acc += run.chains[c].accepted;
    prop += run.chains[c].proposed;
  }
  p.acceptRate = prop ? double(acc) / double(prop) : std::nan("");
  p.seconds = seconds;

  if (Status s = summarizePosterior(p); !s) return s.error();
  return p;
}

} // namespace chassis::symbolic
