// Likelihood weighting (the algorithm of infer_lw.h) written once over the model run behind it:
// the interpreter (symbolic/infer_lw.cpp) or compiled code (codegen/infer_lw_jit.cpp). The
// driver owns the blocks, their streams, the draws and the weights; a runner runs one trace.
// Two runners that run the same model the same way give the same Posterior bit for bit.
//
// A runner, made per block by make() (it may keep buffers across the block's traces), provides
//   Status run(Rng& rng, std::vector<double>& values, double& logWeight);
// one trace from the prior on `rng`: the quantities' values and the trace's log weight, or the
// model's error. A runner may also provide
//   bool many() const;
//   Status runMany(Rng& rng, size_t count, double* logWeights, std::span<double* const> draws);
// and, when many() is true, runs the block's traces `count` at a time (the same traces on the
// same stream as `count` calls of run()): trace j's log weight at logWeights[j], quantity q's
// value at draws[q][j].
#pragma once

#include "spec/run_control.h"
#include "symbolic/infer_lw.h"
#include "symbolic/infer_mh.h"
#include "symbolic/summary.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <concepts>
#include <mutex>
#include <span>

namespace chassis::symbolic {

/// The checks of the options and the quantities of inferLw (resolveQuery on a probe run on the
/// stream Rng(seed).split(~0)): what every back end's likelihood weighting starts from.
Expected<std::vector<Quantity>> lwQuantities(const ir::Function& f, std::span<const Value> inputs,
                                             const InferOptions& options);

/// Likelihood weighting of options.samples traces with runners made by make(). `firstBlockAlone`:
/// block 0 runs first on this thread, timed, and the others go to options.threads threads only
/// when they would take over 0.4 ms on one (kLwParallelFrom: starting a thread costs 40-100 us;
/// on the idle machine, 2026-12-05, 100,000 compiled gauss traces took 2.5-3.0 ms on two
/// threads, ~3.0 ms on one, where the old 2 ms threshold left them since the block loop);
/// the blocks and their streams are fixed, so the result does not depend on it.
template <class Make>
Expected<Posterior> runLw(std::vector<Quantity> qs, const InferOptions& options,
                          std::chrono::steady_clock::time_point t0, bool firstBlockAlone,
                          const Make& make) {
  const Rng base(options.seed);
  const size_t n = options.samples, nq = qs.size();
  Posterior p;
  p.method = InferMethod::LW;
  p.quantities = std::move(qs);
  p.chains = 1;
  p.samplesPerChain = n;
  if (run::wouldExceedMemory((nq + 1) * n * sizeof(double))) // --memory: before, not after
    return Error("stopped: " + run::stopMessage());
  // Each quantity's draws allocated in place (not a copy of one filled prototype: fresh pages are
  // costly to touch, ~1 us per 4 KB page here, as much as 50 compiled traces).
  p.draws.resize(nq);
  for (auto& d : p.draws) {
    d.resize(1);
    d[0].resize(n);
  }
  p.logWeights.assign(n, 0.0);
  const size_t blocks = (n + kLwBlock - 1) / kLwBlock;
  // Each block's part of the log evidence's log-sum-exp, taken by the block's thread while its
  // weights are in cache (an exp per trace: a large share of a compiled trace's time).
  std::vector<LogSumExpPart> parts(blocks);
  std::atomic<size_t> done{0};
  std::mutex progressMutex;
  auto runBlock = [&](size_t b) -> Status {
    Rng rng = base.split(b);
    auto runner = make();
    std::vector<double> vals;
    const size_t first = b * kLwBlock, end = std::min(n, (b + 1) * kLwBlock);
    bool ran = false;
    if constexpr (requires(std::span<double* const> d) {
                    { runner.many() } -> std::convertible_to<bool>;
                    { runner.runMany(rng, size_t(0), (double*)nullptr, d) } -> std::same_as<Status>;
                  }) {
      if (runner.many()) {
        // Chunks of kLwChunk traces, the stop polled before each (64 compiled gauss traces take
        // about 2 us; fewer calls, 8 instructions a trace less than by 16).
        constexpr size_t kLwChunk = 64;
        std::vector<double*> cols(nq);
        for (size_t i = first; i < end; i += kLwChunk) {
          if (run::stopRequested()) return Error("stopped: " + run::stopMessage());
          for (size_t q = 0; q < nq; ++q) cols[q] = p.draws[q][0].data() + i;
          if (Status s = runner.runMany(rng, std::min(kLwChunk, end - i), p.logWeights.data() + i,
                                        cols);
              !s)
            return s;
        }
        ran = true;
      }
    }
    for (size_t i = first; i < end && !ran; ++i) {
      // SIGINT, --time-limit, --memory (spec/run_control.h): polled every 16 runs (a call; a
      // compiled run is a few hundred instructions).
      if (((i - first) & 15) == 0 && run::stopRequested())
        return Error("stopped: " + run::stopMessage());
      if (Status s = runner.run(rng, vals, p.logWeights[i]); !s) return s;
      for (size_t q = 0; q < nq; ++q) p.draws[q][0][i] = vals[q];
    }
    parts[b] = logSumExpPart(std::span<const double>(p.logWeights).subspan(first, end - first));
    size_t d = ++done;
    if (options.progress) {
      std::lock_guard<std::mutex> lock(progressMutex);
      options.progress(double(d) / double(blocks));
    }
    return Status::ok();
  };
  Status st = Status::ok();
  if (firstBlockAlone) {
    // Seconds of remaining work from which a second thread pays: starting one takes 40-100 us
    // here, and the blocks are taken one at a time (runParallel), so a thread that starts late
    // costs the run at most the block it took last.
    constexpr double kLwParallelFrom = 0.0004;
    const auto b0 = std::chrono::steady_clock::now();
    if (Status s0 = runBlock(0); !s0) return s0.error();
    const double perBlock =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count();
    const int threads = perBlock * double(blocks - 1) > kLwParallelFrom ? options.threads : 1;
    st = runParallel(blocks - 1, threads, [&](size_t b) { return runBlock(b + 1); });
  } else {
    st = runParallel(blocks, options.threads, runBlock);
  }
  if (!st) return st.error();
  // (Grouped by block: the blocks are fixed, so the result is too, on any number of threads.)
  p.logEvidence = combineLogSumExp(parts) - std::log(double(n));
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (Status s = summarizePosterior(p); !s) return s.error();
  return p;
}

} // namespace chassis::symbolic
