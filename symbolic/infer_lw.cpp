// Likelihood weighting (see infer_lw.h).
#include "symbolic/infer_lw.h"

#include "spec/run_control.h"
#include "symbolic/infer_mh.h"
#include "symbolic/summary.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>

namespace chassis::symbolic {

Expected<Posterior> inferLw(const ir::Function& f, std::span<const Value> inputs,
                            const InferOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  if (options.samples == 0) return Error("--samples must be at least 1");
  const Rng base(options.seed);
  // A probe run (its own stream) gives the choices for a default query of a module without
  // outputs.
  Rng probeRng = base.split(~uint64_t(0));
  auto probe = run(f, inputs, probeRng);
  if (!probe) return probe.error();
  auto qs = resolveQuery(f, options.query, &probe->trace);
  if (!qs) return qs.error();
  bool needChoices = false;
  for (auto& q : *qs) needChoices = needChoices || q.output < 0;

  const size_t n = options.samples, nq = qs->size();
  Posterior p;
  p.method = InferMethod::LW;
  p.quantities = *qs;
  p.chains = 1;
  p.samplesPerChain = n;
  if (run::wouldExceedMemory((nq + 1) * n * sizeof(double))) // --memory: before, not after
    return Error("stopped: " + run::stopMessage());
  p.draws.assign(nq, std::vector<std::vector<double>>(1, std::vector<double>(n)));
  p.logWeights.assign(n, 0.0);
  const size_t blocks = (n + kLwBlock - 1) / kLwBlock;
  std::atomic<size_t> done{0};
  std::mutex progressMutex;
  RunOptions ro;
  ro.recordChoices = needChoices;
  Status st = runParallel(blocks, options.threads, [&](size_t b) -> Status {
    Rng rng = base.split(b);
    std::vector<double> vals;
    for (size_t i = b * kLwBlock; i < std::min(n, (b + 1) * kLwBlock); ++i) {
      // SIGINT, --time-limit, --memory (spec/run_control.h): one atomic load per run.
      if (run::stopRequested()) return Error("stopped: " + run::stopMessage());
      auto r = run(f, inputs, rng, ro);
      if (!r) return r.error();
      readQuantities(*qs, *r, vals);
      for (size_t q = 0; q < nq; ++q) p.draws[q][0][i] = vals[q];
      p.logWeights[i] = r->trace.logWeight();
    }
    size_t d = ++done;
    if (options.progress) {
      std::lock_guard<std::mutex> lock(progressMutex);
      options.progress(double(d) / double(blocks));
    }
    return Status::ok();
  });
  if (!st) return st.error();
  p.logEvidence = logSumExp(p.logWeights) - std::log(double(n));
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (Status s = summarizePosterior(p); !s) return s.error();
  return p;
}

} // namespace chassis::symbolic
