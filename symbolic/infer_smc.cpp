// Sequential Monte Carlo by re-execution with systematic resampling (see infer_smc.h).
#include "symbolic/infer_smc.h"

#include "spec/run_control.h"
#include "symbolic/infer_mh.h"
#include "symbolic/summary.h"

#include <chrono>
#include <cmath>

namespace chassis::symbolic {

namespace {

struct Particle {
  std::unordered_map<std::string, double> choices;
  double logWeightSoFar = 0; // the execution's log weight at the last stop
  double logW = 0;           // the particle's SMC weight since the last resampling
  bool finished = false;
  std::vector<double> quantities; // read when finished
};

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
  const size_t expectedStages = size_t(probe->trace.numObserves) + 1;

  if (run::wouldExceedMemory(N * sizeof(Particle))) // --memory: before, not after
    return Error("stopped: " + run::stopMessage());
  std::vector<Particle> ps(N);
  Rng resampleRng(options.seed, 1);
  double logZ = 0;
  size_t resamplings = 0;
  constexpr size_t kBlock = 256;
  for (size_t stage = 1;; ++stage) {
    bool anyActive = false;
    for (auto& p : ps) anyActive = anyActive || !p.finished;
    if (!anyActive) break;
    const size_t blocks = (N + kBlock - 1) / kBlock;
    Status st = runParallel(blocks, options.threads, [&](size_t b) -> Status {
      std::vector<double> vals;
      for (size_t i = b * kBlock; i < std::min(N, (b + 1) * kBlock); ++i) {
        // SIGINT, --time-limit, --memory (spec/run_control.h): one atomic load per particle.
        if (run::stopRequested()) return Error("stopped: " + run::stopMessage());
        Particle& p = ps[i];
        if (p.finished) continue;
        Rng rng = base.split(uint64_t(stage) * uint64_t(N) + i);
        RunOptions ro;
        ro.replay = &p.choices;
        ro.stopAfterObserves = int(stage);
        auto r = run(f, inputs, rng, ro);
        if (!r) return r.error();
        const double lw = r->trace.logWeight();
        const double inc = std::isinf(lw) && lw < 0 ? lw : lw - p.logWeightSoFar;
        p.logW += inc;
        p.logWeightSoFar = lw;
        p.choices = r->trace.values();
        if (!r->stopped) {
          p.finished = true;
          readQuantities(*qs, *r, p.quantities);
        }
      }
      return Status::ok();
    });
    if (!st) return st.error();
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
    if (1.0 / sw2 < 0.5 * double(N)) {
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
    }
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
  p.logEvidence = logZ + logSumExp(p.logWeights) - std::log(double(N));
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (Status s = summarizePosterior(p); !s) return s.error();
  return p;
}

} // namespace chassis::symbolic
