// Single-site trace MH (the algorithm of infer_mh.h) written once over the model run behind it:
// the interpreter (symbolic/infer_mh.cpp) or compiled code (codegen/infer_mh_jit.cpp). A runner
// holds the chain's current trace and runs proposals against it; the driver picks sites, draws
// the proposals, adapts the random-walk steps, computes the acceptance ratio in one fixed order
// of floating-point operations, and keeps the draws. Two runners that run the same model the
// same way (the same trace at the same generator state) therefore give the same chains bit for
// bit at a seed.
//
// A runner R, constructed on the chain's generator (Rng&), provides:
//   Status start();                 one prior run into the current trace (an error: the model's)
//   double logJoint() const;        of the current trace
//   size_t size() const;            its number of choices
//   MhSite site(size_t k) const;    its choice k (valid until accept())
//   MhStep& step(size_t k);         the random-walk step of choice k's address (one per address)
//   bool propose(size_t k, double x, const double* logProbX);  runs with the current values
//                                   replayed, choice k's at x (logProbX, when not null, is its log
//                                   density under choice k's current distribution and parameters);
//                                   false: the run failed, proposalError(k, x) is the model's error
//   Error proposalError(size_t k, double x);
//   double proposalLogJoint() const; size_t proposalSize() const;
//   double subtractFresh(double logAlpha, bool& changed) const;  minus the log prior of each
//                                   choice of the proposal not replayed, in execution order
//   double addStale(double logAlpha, bool& changed) const;  plus the log prior of each current
//                                   choice whose address the proposal lacks, in the current order
//   void accept(bool changed);      the proposal becomes the current trace
//   void reject(size_t k);          the proposal is dropped
//   void read(std::vector<double>& values) const;  the quantities of the current trace
// and may provide
//   void append(std::vector<std::vector<double>>& draws) const;  draws[q].push_back(value q)
//                                   for each quantity q, the values read() gives
//   double siteLogDensity(size_t k, double x) const;  logDensity(site(k).dist, site(k).params, x)
//                                   bit for bit (e.g. from a logarithm it keeps with the choice)
//   bool settleInPlace(bool accept);  after a proposal whose trace is the current one with only
//                                   the site's value (and what depends on it) changed: does
//                                   accept(false) when `accept`, else reject(k), preferably
//                                   without a branch on `accept`, and returns true; false (and
//                                   nothing done) for any other proposal
#pragma once

#include "spec/run_control.h"
#include "symbolic/dist_traits.h"
#include "symbolic/distributions.h"
#include "symbolic/infer_mh.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cmath>
#include <mutex>
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace chassis::symbolic {

/// One choice of a runner's current trace, as the driver sees it.
struct MhSite {
  DistKind dist;
  std::span<const double> params;
  double value;
  double logProb;
};

/// Whether std::log(u) < a, for u in (0, 1] (uniform()'s values), with the decision of
/// std::log itself but mostly without calling it: u = m 2^e with m in [sqrt(1/2), sqrt(2)), so
/// log u = e log 2 + log m, and with t = (m - 1) / (m + 1) (|t| < 0.1716), log m = 2 (t + t^3/3 +
/// t^5/5 + ...), whose terms past t^5/5 add up to at most 2 |t|^7 / (7 (1 - t^2)) < 1.4e-6 in
/// magnitude; the rounding of these few operations is below 1e-13, and std::log's below 1e-14. So
/// when the three-term value is more than 1e-5 from `a`, it is on the same side of `a` as
/// std::log(u); otherwise std::log decides. (NaN a: false either way.) `alsoWhen`: the result is
/// alsoWhen || (std::log(u) < a) (the acceptance test's logAlpha >= 0). No branch depends on u
/// or a except the rare one to std::log: the outcome of an acceptance test is a coin flip no
/// predictor learns, and it is known only at the end of the move's longest chain of operations,
/// so a mispredicted branch on it throws away much work.
[[gnu::always_inline]] inline bool logBelow(double u, double a, bool alsoWhen = false) {
  constexpr double kLn2 = 0.6931471805599453;
  constexpr double kMargin = 1e-5;
  const uint64_t bits = std::bit_cast<uint64_t>(u);
  // u is normal (uniform() >= 2^-53): m in [1, 2), halved (its exponent field less one: exact)
  // into [sqrt(1/2), 1) when above sqrt(2).
  const uint64_t mbits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
  const uint64_t high = mbits > 0x3ff6a09e667f3bcdULL ? 1 : 0; // m > 1.4142135623730951
  const double m = std::bit_cast<double>(mbits - (high << 52));
  const int e = int((bits >> 52) & 0x7ff) - 1023 + int(high);
  const double t = (m - 1.0) / (m + 1.0), t2 = t * t;
  const double approx = double(e) * kLn2 + 2.0 * t * (1.0 + t2 * (1.0 / 3.0 + t2 * (1.0 / 5.0)));
  const bool below = approx + kMargin < a, above = approx - kMargin >= a;
  if (!(below | above)) [[unlikely]]
    return alsoWhen || std::log(u) < a;
  return alsoWhen | below;
}
/// The random-walk step of one address, adapted during warm-up (Robbins-Monro).
struct MhStep {
  double logStep = 0;
  double scale = 1; // exp(logStep)
  size_t updates = 0;
  bool ready = false; // logStep set from the prior's variance at the first walk
};

template <class Runner> class MhDriver {
public:
  static constexpr double kTargetAccept = 0.44; // optimal for one-dimensional random walks

  template <class Make>
  MhDriver(Rng rng, Make&& make) : rng_(rng), runner_(make(rng_)) {}

  /// A prior draw with positive weight (up to 1000 attempts).
  Status init(const ir::Function& f) {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      if (Status s = runner_.start(); !s) return s;
      if (std::isfinite(runner_.logJoint())) {
        sweep_ = std::max<size_t>(1, runner_.size());
        return Status::ok();
      }
    }
    return Error(f.loc(), "MH: no trace of positive weight in 1000 prior draws of '" + f.name() +
                              "' (the evidence may be impossible, or too unlikely to start "
                              "from the prior)");
  }

  /// One single-site move; `adapt` adapts random-walk steps. Returns 1 when accepted, 0 when
  /// not, -1 on the model's error (then in error_).
  [[gnu::always_inline]] int move(bool adapt) {
    const size_t n = runner_.size();
    if (n == 0) return 0;
    // (Through int64_t: the same values, n and k far below 2^63, without the unsigned
    // conversions' range branches.)
    const size_t k = std::min(n - 1, size_t(int64_t(rng_.uniform() * double(int64_t(n)))));
    const MhSite site = runner_.site(k);
    const bool continuous = !signature(site.dist).discrete;
    // (uniform() < 0.5, decided on its bits.)
    const bool walk = continuous && rng_.uniformBits() < (uint64_t(1) << 52);
    double x;
    double siteCorrection = 0; // log q(x | x') - log q(x' | x)
    double logProbX = 0;       // log p(x) under the site's current parameters, when known
    MhStep* step = nullptr;
    if (walk) {
      step = &runner_.step(k);
      if (!step->ready) {
        auto var = variance(site.dist, site.params);
        step->logStep = var && std::isfinite(*var) && *var > 0 ? 0.5 * std::log(*var) : 0.0;
        step->scale = std::exp(step->logStep);
        step->ready = true;
      }
      x = site.value + step->scale * rng_.normalInline();
    } else {
      // Normal's draw inline (Dist<Normal>::sample draws with Rng::normalInline), others
      // through the switch.
      x = site.dist == DistKind::Normal ? Dist<DistKind::Normal>::sample(site.params, rng_)
                                        : sample(site.dist, site.params, rng_);
      if constexpr (requires(Runner& r) { r.siteLogDensity(k, x); })
        logProbX = runner_.siteLogDensity(k, x); // the same value, from what the runner keeps
      else
        logProbX = logDensity(site.dist, site.params, x);
      siteCorrection = site.logProb - logProbX;
    }
    bool accept = false;
    if (!runner_.propose(k, x, walk ? nullptr : &logProbX)) {
      // A proposal outside the support may make the model fail further on (log of a negative
      // number, ...): that state has probability zero, so it is rejected. Otherwise the error
      // is the model's.
      if (std::isfinite(logDensity(site.dist, site.params, x))) {
        error_ = runner_.proposalError(k, x);
        return -1;
      }
    } else if (std::isfinite(runner_.proposalLogJoint())) {
      double logAlpha = runner_.proposalLogJoint() - runner_.logJoint() + siteCorrection;
      const size_t n2 = runner_.proposalSize();
      if (n2 != n) logAlpha += std::log(double(n)) - std::log(double(n2)); // else + 0
      bool changed = false;
      logAlpha = runner_.subtractFresh(logAlpha, changed);
      if (changed || n2 != n) logAlpha = runner_.addStale(logAlpha, changed);
      // log(u) < 0 for every u of uniform(): logAlpha >= 0 accepts without the logarithm (the
      // same decision; the draw is made either way); otherwise logBelow decides as std::log.
      const double u = rng_.uniform();
      // A runner may settle a proposal that changed only the site's value without a branch on
      // the outcome (settleInPlace: true); otherwise accept() or reject(). For it, the test has
      // no branch on the outcome either (its bounded logarithm taken whatever logAlpha's sign);
      // for the others (the interpreter: a move is thousands of instructions) the logarithm is
      // skipped when logAlpha >= 0. The same decision either way.
      bool settled = false;
      if constexpr (requires(Runner& r) { r.settleInPlace(accept); }) {
        accept = logBelow(u, logAlpha, logAlpha >= 0);
        settled = runner_.settleInPlace(accept);
      } else {
        accept = logAlpha >= 0 || logBelow(u, logAlpha);
      }
      if (settled) {
        if (step && adapt) adaptStep(*step, accept);
        return int(accept);
      }
      if (accept) runner_.accept(changed);
    }
    if (!accept) runner_.reject(k);
    if (step && adapt) adaptStep(*step, accept);
    return accept ? 1 : 0;
  }

  /// `count` moves in a row (`count` sweeps of sweepSize() moves: the sweep is a fixed number of
  /// moves, the initial trace's number of choices, at least one; it must not depend on the
  /// current state, since a state-dependent number of moves per recorded draw would not leave
  /// the posterior invariant). Adds the accepted ones to `accepted`; false on the model's error
  /// (error()), after the move that failed.
  [[gnu::always_inline]] bool moves(size_t count, bool adapt, size_t& accepted) {
    size_t acc = 0;
    for (size_t i = 0; i < count; ++i) {
      const int a = move(adapt);
      if (a < 0) [[unlikely]]
        return false;
      acc += size_t(a);
    }
    accepted += acc;
    return true;
  }

  size_t sweepSize() const { return sweep_; }
  const Error& error() const { return error_; }
  const Runner& runner() const { return runner_; }

private:
  static void adaptStep(MhStep& step, bool accept) {
    ++step.updates;
    step.logStep += ((accept ? 1.0 : 0.0) - kTargetAccept) / std::pow(double(step.updates), 0.6);
    step.scale = std::exp(step.logStep);
  }

  Rng rng_;
  Runner runner_;
  size_t sweep_ = 1;
  Error error_; // of the move that returned -1
};

/// Faults in the pages of [p, p + bytes) (storage just reserved for the draws, in the timed
/// run) with one call instead of one page fault per page as the draws are stored (Linux >=
/// 5.14's MADV_POPULATE_WRITE: 196 pages for 100,000 draws, 0.25-0.3 ms of faults one by one,
/// about 0.1 ms at once; elsewhere, or when the kernel refuses, nothing: the pages fault in as
/// before). The memory's contents do not change. True when the pages were faulted in. (Out of
/// line: inlined into runMhChainsOn, it changed GCC's code for the interpreter's moves, +16
/// instructions per move.)
[[gnu::noinline]] inline bool prefaultForWrite(void* p, size_t bytes) {
#if defined(__linux__)
  if (bytes == 0) return false;
  constexpr int kPopulateWrite = 23; // MADV_POPULATE_WRITE (older headers lack the name)
  static const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = uintptr_t(p) & ~(page - 1),
                  end = (uintptr_t(p) + bytes + page - 1) & ~(page - 1);
  return madvise(reinterpret_cast<void*>(begin), end - begin, kPopulateWrite) == 0;
#else
  (void)p;
  (void)bytes;
  return false;
#endif
}

/// runMhChains over runners made by make(Rng&) (one per chain), the quantities `qs` read by
/// Runner::read: chain c on Rng(seed).split(c), options.threads threads.
template <class Runner, class Make>
Expected<MhRun> runMhChainsOn(const ir::Function& f, const InferOptions& options,
                              std::span<const size_t> chainIds, std::vector<Quantity> qs,
                              const Make& make) {
  const size_t thinning = std::max<size_t>(1, options.thin);
  const Rng base(options.seed);
  std::vector<size_t> ids(chainIds.begin(), chainIds.end());
  if (ids.empty())
    for (size_t c = 0; c < options.chains; ++c) ids.push_back(c);
  const size_t K = ids.size(), N = options.samples;
  std::vector<MhChain> outs(K);
  const size_t total = K * (options.warmup + N * thinning);
  std::atomic<size_t> done{0};
  std::mutex progressMutex;
  auto report = [&](size_t d) {
    if (!options.progress) return;
    std::lock_guard<std::mutex> lock(progressMutex);
    options.progress(double(d) / double(total));
  };
  Status st = runParallel(K, options.threads, [&](size_t k) -> Status {
    MhDriver<Runner> chain(base.split(ids[k]), make);
    if (Status s = chain.init(f); !s) return s;
    MhChain& out = outs[k];
    out.draws.assign(qs.size(), std::vector<double>());
    for (auto& d : out.draws) {
      d.reserve(N);
      prefaultForWrite(d.data(), N * sizeof(double));
    }
    std::vector<double> vals;
    const size_t thin = thinning; // a copy in the frame, not loaded through the closure
    const size_t every = std::max<size_t>(1, total / 200);
    size_t untilReport = every, untilKeep = thin; // countdowns (no division per sweep)
    const size_t warmup = options.warmup, iterations = warmup + N * thin;
    const size_t sweep = chain.sweepSize();
    auto keep = [&] {
      if constexpr (requires(const Runner& r) { r.append(out.draws); }) {
        chain.runner().append(out.draws); // the same values, without the buffer between
      } else {
        chain.runner().read(vals);
        for (size_t q = 0; q < vals.size(); ++q) out.draws[q].push_back(vals[q]);
      }
    };
    // Iteration `it` (a sweep) is a warm-up one (steps adapted) while it < warmup; after one of
    // the others, every thin-th keeps a draw. The iterations run in spans that end where
    // something else happens (a stop poll, a progress report, the end of the warm-up; a kept
    // draw when thinned), so that within a span only the moves run.
    for (size_t it = 0; it < iterations;) {
      // SIGINT, --time-limit, --memory (spec/run_control.h): no summary of a cut-short chain.
      // Polled every 16 sweeps (a call: a sweep of a small compiled model is a few hundred
      // instructions); a span never crosses a multiple of 16.
      if ((it & 15) == 0 && run::stopRequested()) return Error("stopped: " + run::stopMessage());
      size_t span = std::min({16 - (it & 15), untilReport, iterations - it});
      // Sweeps run `each` at a time: the whole span in the warm-up; after it, a draw is kept
      // every thin-th sweep (thinned, the span ends at the next one; unthinned, one after each
      // sweep of the span). The interpreter's moves (thousands of instructions) are inlined
      // once (a second copy made GCC leave the interpreted runner's calls out of line, +20
      // instructions per move); a compiled runner's (settled in place: a few hundred) twice,
      // with and without the warm-up's step adaptation (-15 per move).
      const bool warm = it < warmup;
      size_t each = 1;
      if (warm) each = span = std::min(span, warmup - it);
      else if (thin > 1) each = span = std::min(span, untilKeep);
      for (size_t ran = 0; ran < span; ran += each) {
        size_t accepted = 0;
        bool ok;
        if constexpr (requires(Runner& r, bool a) { r.settleInPlace(a); })
          ok = warm ? chain.moves(each * sweep, true, accepted)
                    : chain.moves(each * sweep, false, accepted);
        else
          ok = chain.moves(each * sweep, warm, accepted);
        if (!ok) return chain.error();
        if (warm) continue;
        out.accepted += accepted;
        out.proposed += each * sweep;
        if ((untilKeep -= each) == 0) { // (sweeps after the warm-up) % thin == 0
          untilKeep = thin;
          keep();
        }
      }
      it += span;
      if ((untilReport -= span) == 0) {
        untilReport = every;
        report(done += every);
      }
    }
    return Status::ok();
  });
  if (!st) return st.error();
  return MhRun{std::move(qs), std::move(outs), N};
}

} // namespace chassis::symbolic
