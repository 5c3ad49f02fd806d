// Sequential Monte Carlo over suspended executions, with adaptive systematic resampling,
// resample-move rejuvenation and the Lee-Whiteley evidence variance (see infer_smc.h).
#include "symbolic/infer_smc.h"

#include "spec/run_control.h"
#include "symbolic/distributions.h"
#include "symbolic/infer_mh.h"
#include "symbolic/node_pool.h"
#include "symbolic/summary.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <unordered_set>

namespace chassis::symbolic {

namespace {

/// What one stage of one particle did: the choices it drew between two observes, its part of the
/// prior density and of the weight, and the suspension it stopped in. Segments are immutable and
/// shared: a particle is the newest segment of its ancestry (the `parent` chain), so copying a
/// particle at resampling copies a pointer, never its history.
struct Segment {
  /// Cut (releaseOldSuspensions) once the segment is more than the rejuvenation lag behind the
  /// newest stage when no query reads the choices: the ancestry before it is then never read.
  mutable std::shared_ptr<const Segment> parent;
  std::vector<Choice> choices;
  double logPrior = 0, logWeight = 0;
  /// Where the run stopped (the state to resume from). Released (inferSmc) once the segment is
  /// more than the rejuvenation lag behind the newest stage: nothing resumes from it any more, and
  /// the ancestry keeps only the choices.
  mutable Suspension after;

  Segment() = default;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  /// Frees a chain of ancestors no other particle shares iteratively: the default destructor
  /// would recurse once per stage.
  ~Segment() {
    std::shared_ptr<const Segment> p = std::move(parent);
    while (p && p.use_count() == 1)
      p = std::move(const_cast<Segment&>(*p).parent);
  }
};
using SegmentPtr = std::shared_ptr<const Segment>;

struct Particle {
  SegmentPtr head;
  double logW = 0;  // the SMC weight since the last resampling
  size_t eve = 0;   // the index of its ancestor among the initial particles
  bool finished = false;
  std::vector<double> quantities; // read when finished
};

/// The trace of everything `head` and its ancestors drew, in execution order (then `last`).
Trace historyTrace(const Segment* head, const Trace* last) {
  std::vector<const Segment*> chain;
  for (const Segment* s = head; s; s = s->parent.get()) chain.push_back(s);
  Trace t;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it)
    t.choices.insert(t.choices.end(), (*it)->choices.begin(), (*it)->choices.end());
  if (last) t.choices.insert(t.choices.end(), last->choices.begin(), last->choices.end());
  return t;
}

/// Advances from `from` to just after the next observe (or to the end): one resume from a copy
/// of from.after, or from `at` when from.after was moved there (then it is left unstarted).
Expected<RunResult> advance(const ir::Function& f, std::vector<Value>& inputs, const Segment& from,
                            Suspension& at, Rng& rng,
                            const std::unordered_map<std::string, double>* replay) {
  if (!at.started) at = from.after;
  RunOptions ro;
  ro.replay = replay;
  ro.stopAfterObserves = 1;
  return resume(f, inputs, at, rng, ro);
}

SegmentPtr makeSegment(SegmentPtr parent, RunResult&& r, Suspension&& at) {
  // From the per-thread pool (symbolic/node_pool.h): one segment per particle per stage.
  auto s = std::allocate_shared<Segment>(pool::Allocator<Segment>());
  s->parent = std::move(parent);
  s->logPrior = r.trace.logPrior;
  s->logWeight = r.trace.logWeight();
  s->choices = std::move(r.trace.choices);
  s->after = std::move(at);
  return s;
}

/// Resample-move: `moves` single-site Metropolis-Hastings steps on the choices of the last `lag`
/// stages of particle `p` (one drawn uniformly per step; a random walk scaled by the prior's
/// standard deviation for a continuous choice, half of the time, else a fresh prior draw),
/// re-running those stages from the suspension before them with the other choices replayed. The
/// target is the particle's partial posterior given the observes so far: the choices before the
/// window are held fixed and the window's are moved under their conditional, so the step leaves
/// the current SMC target invariant and the weights unchanged. A proposal whose re-run does not
/// reach the same number of observes (control flow changed) is rejected.
Expected<size_t> rejuvenate(const ir::Function& f, std::vector<Value>& inputs, Particle& p,
                            size_t lag, size_t moves, Rng& rng) {
  size_t accepted = 0;
  for (size_t m = 0; m < moves; ++m) {
    // The window: the newest min(lag, depth) segments; `start` is the one before them.
    std::vector<const Segment*> window;
    const Segment* start = p.head.get();
    while (window.size() < lag && start->parent) {
      window.push_back(start);
      start = start->parent.get();
    }
    if (window.empty()) return accepted;
    std::vector<const Choice*> sites;
    double oldJoint = 0;
    for (auto it = window.rbegin(); it != window.rend(); ++it) {
      for (const Choice& c : (*it)->choices) sites.push_back(&c);
      oldJoint += (*it)->logPrior + (*it)->logWeight;
    }
    if (sites.empty()) return accepted;
    const size_t n = sites.size();
    const Choice& site = *sites[std::min(n - 1, size_t(rng.uniform() * double(n)))];
    double x, siteCorrection = 0; // log q(old | new) - log q(new | old)
    const auto var = variance(site.dist, site.params);
    if (!signature(site.dist).discrete && rng.uniform() < 0.5 && var && std::isfinite(*var) &&
        *var > 0) {
      x = site.value + std::sqrt(*var) * rng.normal();
    } else {
      x = sample(site.dist, site.params, rng);
      siteCorrection = site.logProb - logDensity(site.dist, site.params, x);
    }
    std::unordered_map<std::string, double> replay;
    for (const Choice* c : sites) replay.emplace(c->address, c->value);
    replay[site.address] = x;
    // Re-run the window stage by stage from the segment before it.
    SegmentPtr head = window.back()->parent;
    double newJoint = 0;
    size_t n2 = 0;
    double fresh = 0;
    std::unordered_set<std::string_view> now;
    bool reached = true;
    for (size_t k = 0; k < window.size() && reached; ++k) {
      Suspension at;
      auto r = advance(f, inputs, *head, at, rng, &replay);
      if (!r) {
        // As in MH: a proposal outside the support may make the model fail further on; that
        // state has probability zero and is rejected. Otherwise the error is the model's.
        if (std::isfinite(logDensity(site.dist, site.params, x))) return r.error();
        reached = false;
        break;
      }
      if (!r->stopped) reached = false; // the run ended before the window's last observe
      newJoint += r->trace.logJoint();
      n2 += r->trace.choices.size();
      for (const Choice& c : r->trace.choices)
        if (!c.replayed) fresh += c.logProb;
      head = makeSegment(std::move(head), std::move(*r), std::move(at));
      for (const Choice& c : head->choices) now.insert(c.address);
    }
    if (!reached || n2 == 0 || !std::isfinite(newJoint)) continue;
    double stale = 0;
    for (const Choice* c : sites)
      if (!now.count(c->address)) stale += c->logProb;
    const double logAlpha = newJoint - oldJoint + siteCorrection + std::log(double(n)) -
                            std::log(double(n2)) - fresh + stale;
    if (std::log(rng.uniform()) < logAlpha) {
      p.head = std::move(head);
      ++accepted;
    }
  }
  return accepted;
}

/// Frees the suspension `lag` + 1 stages behind each running particle (not needed by the
/// rejuvenation window any more), so that memory grows with the choices only; and when the
/// choices are not kept (`keepHistory` false: no query reads them), cuts the ancestry before that
/// stage, so that the live memory does not grow with the number of stages at all.
void releaseOldSuspensions(const std::vector<Particle>& ps, size_t lag, bool keepHistory) {
  for (const Particle& p : ps) {
    if (p.finished) continue;
    const Segment* s = p.head.get();
    for (size_t k = 0; k <= lag && s; ++k) s = s->parent.get();
    if (!s) continue;
    if (s->after.started) s->after = Suspension{};
    if (!keepHistory && s->parent) {
      // Freed after the walk: the chain's destructor runs iteratively (~Segment).
      SegmentPtr older = std::move(s->parent);
      s->parent = nullptr;
    }
  }
}

} // namespace

Expected<Posterior> inferSmc(const ir::Function& f, std::span<const Value> inputs,
                             const InferOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const size_t N = options.samples;
  if (N == 0) return Error("--samples (particles) must be at least 1");
  const Rng base(options.seed);
  Rng probeRng = base.split(~uint64_t(0));
  auto probe = run(f, inputs, probeRng);
  if (!probe) return probe.error();
  auto qs = resolveQuery(f, options.query, &probe->trace);
  if (!qs) return qs.error();
  bool queriesChoices = false;
  for (const Quantity& q : *qs) queriesChoices = queriesChoices || q.output < 0;
  const size_t expectedStages = size_t(probe->trace.numObserves) + 1;
  const size_t lag = options.smcRejuvenationLag, moves = options.smcRejuvenationMoves;
  const bool rejuvenating = lag > 0 && moves > 0;

  if (run::wouldExceedMemory(N * (sizeof(Particle) + sizeof(Segment)))) // --memory: before
    return Error("stopped: " + run::stopMessage());
  const auto root = std::make_shared<const Segment>();
  std::vector<Particle> ps(N);
  for (size_t i = 0; i < N; ++i) {
    ps[i].head = root;
    ps[i].eve = i;
  }
  Rng resampleRng(options.seed, 1);
  const Rng moveBase(options.seed, 2);
  double logZ = 0;
  size_t resamplings = 0, moved = 0, accepted = 0;
  constexpr size_t kBlock = 256;
  const size_t blocks = (N + kBlock - 1) / kBlock;
  // The inputs are moved into each resumed frame and back (interp.h, resume): one copy per
  // block of particles, so that no particle state ever holds them.
  std::vector<std::vector<Value>> inputCopies(blocks, std::vector<Value>(inputs.begin(), inputs.end()));
  std::vector<size_t> acceptedPerBlock(blocks);
  for (size_t stage = 1;; ++stage) {
    Status st = runParallel(blocks, options.threads, [&](size_t b) -> Status {
      std::vector<Value>& in = inputCopies[b];
      for (size_t i = b * kBlock; i < std::min(N, (b + 1) * kBlock); ++i) {
        // SIGINT, --time-limit, --memory (spec/run_control.h): one atomic load per particle.
        if (run::stopRequested()) return Error("stopped: " + run::stopMessage());
        Particle& p = ps[i];
        if (p.finished) continue;
        Rng rng = base.split(uint64_t(stage) * uint64_t(N) + i);
        Suspension at;
        // Without rejuvenation nothing resumes from the head again: a head no other particle
        // shares gives its suspension up instead of copying it.
        if (!rejuvenating && p.head.use_count() == 1) at = std::move(p.head->after);
        auto r = advance(f, in, *p.head, at, rng, nullptr);
        if (!r) return r.error();
        const double inc = r->trace.logWeight();
        p.logW += inc;
        if (!r->stopped) {
          p.finished = true;
          if (queriesChoices) r->trace = historyTrace(p.head.get(), &r->trace);
          readQuantities(*qs, *r, p.quantities);
        } else {
          p.head = makeSegment(std::move(p.head), std::move(*r), std::move(at));
        }
      }
      return Status::ok();
    });
    if (!st) return st.error();
    releaseOldSuspensions(ps, lag, queriesChoices);
    if (options.progress)
      options.progress(std::min(1.0, double(stage) / double(std::max<size_t>(1, expectedStages))));
    bool allFinished = true;
    for (auto& p : ps) allFinished = allFinished && p.finished;
    if (allFinished) break;
    // Resample when the ESS falls below N/2.
    std::vector<double> lws(N);
    for (size_t i = 0; i < N; ++i) lws[i] = ps[i].logW;
    const double lse = logSumExp(lws);
    if (!std::isfinite(lse))
      return Error(f.loc(), "SMC: every particle has weight zero after observe " +
                                std::to_string(stage) + ": the evidence is impossible under "
                                "the prior draws; use more --samples");
    double sw2 = 0;
    std::vector<double> w(N);
    for (size_t i = 0; i < N; ++i) {
      w[i] = std::exp(lws[i] - lse);
      sw2 += w[i] * w[i];
    }
    if (1.0 / sw2 >= 0.5 * double(N)) continue;
    logZ += lse - std::log(double(N));
    std::vector<Particle> next;
    next.reserve(N);
    const double u = resampleRng.uniform() / double(N);
    double cum = w[0];
    size_t j = 0;
    for (size_t k = 0; k < N; ++k) {
      const double pos = u + double(k) / double(N);
      while (pos > cum && j + 1 < N) cum += w[++j];
      next.push_back(ps[j]);
      next.back().logW = 0;
    }
    ps = std::move(next);
    ++resamplings;
    if (!rejuvenating) continue;
    // Rejuvenate every particle that is still running.
    st = runParallel(blocks, options.threads, [&](size_t b) -> Status {
      std::vector<Value>& in = inputCopies[b];
      acceptedPerBlock[b] = 0;
      for (size_t i = b * kBlock; i < std::min(N, (b + 1) * kBlock); ++i) {
        if (run::stopRequested()) return Error("stopped: " + run::stopMessage());
        if (ps[i].finished) continue;
        Rng rng = moveBase.split(uint64_t(stage) * uint64_t(N) + i);
        auto a = rejuvenate(f, in, ps[i], lag, moves, rng);
        if (!a) return a.error();
        acceptedPerBlock[b] += *a;
      }
      return Status::ok();
    });
    if (!st) return st.error();
    for (size_t b = 0; b < blocks; ++b) accepted += acceptedPerBlock[b];
    for (const Particle& p : ps) moved += p.finished ? 0 : moves;
  }
  Posterior p;
  p.method = InferMethod::SMC;
  p.quantities = *qs;
  p.chains = 1;
  p.samplesPerChain = N;
  p.resamplings = resamplings;
  p.draws.assign(qs->size(), std::vector<std::vector<double>>(1, std::vector<double>(N)));
  p.logWeights.resize(N);
  for (size_t i = 0; i < N; ++i) {
    p.logWeights[i] = ps[i].logW;
    for (size_t q = 0; q < qs->size(); ++q) p.draws[q][0][i] = ps[i].quantities[q];
  }
  const double lse = logSumExp(p.logWeights);
  p.logEvidence = logZ + lse - std::log(double(N));
  // Lee & Whiteley (2018): with m resamplings and E_i the initial ancestor ("Eve") of particle
  // i, var(Z^)/Z^2 is estimated without bias by
  //   1 - (N/(N-1))^(m+1) * (1 - sum_e W_e^2 / W^2),   W_e = sum of the weights of Eve e.
  // The standard error of log Z^ is its square root (delta method).
  if (N > 1 && std::isfinite(lse)) {
    std::vector<double> byEve(N, 0.0);
    for (size_t i = 0; i < N; ++i) byEve[ps[i].eve] += std::exp(p.logWeights[i] - lse);
    double s2 = 0;
    for (double we : byEve) s2 += we * we;
    const double rel =
        1 - std::exp(double(resamplings + 1) * std::log(double(N) / double(N - 1))) * (1 - s2);
    p.logEvidenceSe = std::sqrt(std::max(0.0, rel));
    size_t eves = 0;
    for (double we : byEve) eves += we > 0 ? 1 : 0;
    p.smcEves = eves;
  }
  p.rejuvenationAcceptRate = moved ? double(accepted) / double(moved) : std::nan("");
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (Status s = summarizePosterior(p); !s) return s.error();
  return p;
}

} // namespace chassis::symbolic
