// Single-site trace Metropolis-Hastings (see infer_mh.h for the algorithm and its acceptance
// ratio).
#include "symbolic/infer_mh.h"

#include "spec/run_control.h"
#include "symbolic/distributions.h"
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

constexpr double kTargetAccept = 0.44; // optimal for one-dimensional random-walk proposals

using ChainOut = MhChain;

/// Per-address random-walk step, adapted during warm-up.
struct Step {
  double logStep = 0;
  size_t updates = 0;
};

class Chain {
public:
  Chain(const ir::Function& f, std::span<const Value> inputs, Rng rng)
      : f_(f), inputs_(inputs), rng_(rng) {}

  /// A prior draw with positive weight.
  Status init() {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      auto r = run(f_, inputs_, rng_);
      if (!r) return r.error();
      if (std::isfinite(r->trace.logJoint())) {
        cur_ = std::move(*r);
        replay_ = cur_.trace.values();
        sweep_ = std::max<size_t>(1, cur_.trace.choices.size());
        return Status::ok();
      }
    }
    return Error(f_.loc(), "MH: no trace of positive weight in 1000 prior draws of '" + f_.name() +
                               "' (the evidence may be impossible, or too unlikely to start "
                               "from the prior)");
  }

  /// One single-site move; `adapt` adapts random-walk steps; returns whether it was accepted.
  Expected<bool> move(bool adapt) {
    const auto& choices = cur_.trace.choices;
    const size_t n = choices.size();
    if (n == 0) return false;
    size_t k = std::min(n - 1, size_t(rng_.uniform() * double(n)));
    const Choice site = choices[k];
    const bool continuous = !signature(site.dist).discrete;
    const bool walk = continuous && rng_.uniform() < 0.5;
    double x;
    double siteCorrection = 0; // log q(x | x') - log q(x' | x)
    Step* step = nullptr;
    if (walk) {
      auto it = steps_.find(site.address);
      if (it == steps_.end()) {
        auto var = variance(site.dist, site.params);
        Step s;
        s.logStep = var && std::isfinite(*var) && *var > 0 ? 0.5 * std::log(*var) : 0.0;
        it = steps_.emplace(site.address, s).first;
      }
      step = &it->second;
      x = site.value + std::exp(step->logStep) * rng_.normal();
    } else {
      x = sample(site.dist, site.params, rng_);
      siteCorrection = site.logProb - logDensity(site.dist, site.params, x);
    }
    const double old = site.value;
    replay_[site.address] = x;
    RunOptions ro;
    ro.replay = &replay_;
    auto r = run(f_, inputs_, rng_, ro);
    bool accept = false;
    if (!r) {
      // A proposal outside the support may make the model fail further on (log of a negative
      // number, ...): that state has probability zero, so it is rejected. Otherwise the error
      // is the model's.
      if (std::isfinite(logDensity(site.dist, site.params, x))) return r.error();
    } else if (std::isfinite(r->trace.logJoint())) {
      double logAlpha = r->trace.logJoint() - cur_.trace.logJoint() + siteCorrection;
      const size_t n2 = r->trace.choices.size();
      logAlpha += std::log(double(n)) - std::log(double(n2));
      bool changed = false;
      for (const Choice& c : r->trace.choices)
        if (!c.replayed) {
          logAlpha -= c.logProb; // fresh
          changed = true;
        }
      std::unordered_set<std::string_view> now;
      if (changed || n2 != n) {
        for (const Choice& c : r->trace.choices) now.insert(c.address);
        for (const Choice& c : choices)
          if (!now.count(c.address)) {
            logAlpha += c.logProb; // stale
            changed = true;
          }
      }
      accept = std::log(rng_.uniform()) < logAlpha;
      if (accept) {
        cur_ = std::move(*r);
        if (changed) replay_ = cur_.trace.values();
      }
    }
    if (!accept) replay_[site.address] = old;
    if (step && adapt) {
      ++step->updates;
      step->logStep += ((accept ? 1.0 : 0.0) - kTargetAccept) / std::pow(double(step->updates), 0.6);
    }
    return accept;
  }

  /// One sweep: a fixed number of moves (the initial trace's number of choices, at least one).
  /// It must not depend on the current state: a state-dependent number of moves per recorded
  /// draw would not leave the posterior invariant.
  Expected<size_t> sweep(bool adapt) {
    const size_t n = sweepSize();
    size_t acc = 0;
    for (size_t i = 0; i < n; ++i) {
      auto a = move(adapt);
      if (!a) return a.error();
      acc += *a;
    }
    return acc;
  }

  size_t sweepSize() const { return sweep_; }
  const RunResult& current() const { return cur_; }

private:
  const ir::Function& f_;
  std::span<const Value> inputs_;
  Rng rng_;
  RunResult cur_;
  size_t sweep_ = 1;
  std::unordered_map<std::string, double> replay_;
  std::unordered_map<std::string, Step> steps_;
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

Expected<MhRun> runMhChains(const ir::Function& f, std::span<const Value> inputs,
                            const InferOptions& options, std::span<const size_t> chainIds) {
  if (options.samples < 4) return Error("--samples must be at least 4 for MH");
  if (options.chains == 0) return Error("--chains must be at least 1");
  const size_t thin = std::max<size_t>(1, options.thin);
  const Rng base(options.seed);
  Rng probeRng = base.split(~uint64_t(0));
  auto probe = run(f, inputs, probeRng);
  if (!probe) return probe.error();
  auto qs = resolveQuery(f, options.query, &probe->trace);
  if (!qs) return qs.error();

  std::vector<size_t> ids(chainIds.begin(), chainIds.end());
  if (ids.empty())
    for (size_t c = 0; c < options.chains; ++c) ids.push_back(c);
  const size_t K = ids.size(), N = options.samples;
  std::vector<ChainOut> outs(K);
  const size_t total = K * (options.warmup + N * thin);
  std::atomic<size_t> done{0};
  std::mutex progressMutex;
  auto report = [&](size_t d) {
    if (!options.progress) return;
    std::lock_guard<std::mutex> lock(progressMutex);
    options.progress(double(d) / double(total));
  };
  Status st = runParallel(K, options.threads, [&](size_t k) -> Status {
    Chain chain(f, inputs, base.split(ids[k]));
    if (Status s = chain.init(); !s) return s;
    ChainOut& out = outs[k];
    out.draws.assign(qs->size(), std::vector<double>());
    for (auto& d : out.draws) d.reserve(N);
    std::vector<double> vals;
    const size_t every = std::max<size_t>(1, total / 200);
    for (size_t it = 0; it < options.warmup + N * thin; ++it) {
      // SIGINT, --time-limit, --memory (spec/run_control.h): no summary of a cut-short chain.
      if (run::stopRequested()) return Error("stopped: " + run::stopMessage());
      const bool warm = it < options.warmup;
      const size_t moves = chain.sweepSize();
      auto a = chain.sweep(warm);
      if (!a) return a.error();
      if (!warm) {
        out.accepted += *a;
        out.proposed += moves;
        if ((it - options.warmup + 1) % thin == 0) {
          readQuantities(*qs, chain.current(), vals);
          for (size_t q = 0; q < vals.size(); ++q) out.draws[q].push_back(vals[q]);
        }
      }
      if (size_t d = ++done; d % every == 0) report(d);
    }
    return Status::ok();
  });
  if (!st) return st.error();
  return MhRun{std::move(*qs), std::move(outs), N};
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
