// Likelihood weighting on compiled code (see infer_lw_jit.h; the interpreted original is
// symbolic/infer_lw.cpp, whose steps this follows one for one).
#include "codegen/infer_lw_jit.h"

#include "codegen/infer_mh_jit.h"
#include "spec/run_control.h"
#include "symbolic/infer_lw.h"
#include "symbolic/infer_mh.h"
#include "symbolic/summary.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>

namespace chassis::codegen {

using namespace chassis::symbolic;

Expected<Posterior> inferLwCompiled(const ir::Function& f, std::span<const Value> inputs,
                                    const InferOptions& options, const JitModel& model) {
  const auto t0 = std::chrono::steady_clock::now();
  if (options.samples == 0) return Error("--samples must be at least 1");
  const Rng base(options.seed);
  Rng probeRng = base.split(~uint64_t(0));
  auto probe = symbolic::run(f, inputs, probeRng);
  if (!probe) return probe.error();
  auto qs = resolveQuery(f, options.query, &probe->trace);
  if (!qs) return qs.error();
  // Where each quantity is in the flat output buffer.
  std::vector<size_t> outOffset, at;
  size_t off = 0;
  for (const ir::Var* o : f.outputs()) {
    outOffset.push_back(off);
    off += o->type().numScalars();
  }
  // A choice quantity: its key (runtime.h JitChoice; none when no run can form the address),
  // read from a traced run.
  std::vector<std::optional<std::string>> keys;
  bool needChoices = false;
  for (const Quantity& q : *qs) {
    at.push_back(q.output < 0 ? 0 : outOffset[size_t(q.output)] + size_t(std::max(q.element, 0)));
    keys.push_back(q.output < 0 ? choiceKey(model, q.address) : std::nullopt);
    needChoices = needChoices || q.output < 0;
  }
  std::vector<double> in;
  for (const Value& v : inputs) {
    if (v.a.empty())
      in.push_back(v.s);
    else
      in.insert(in.end(), v.a.begin(), v.a.end());
  }

  const size_t n = options.samples, nq = qs->size();
  Posterior p;
  p.method = InferMethod::LW;
  p.quantities = *qs;
  p.chains = 1;
  p.samplesPerChain = n;
  if (run::wouldExceedMemory((nq + 1) * n * sizeof(double)))
    return Error("stopped: " + run::stopMessage());
  p.draws.assign(nq, std::vector<std::vector<double>>(1, std::vector<double>(n)));
  p.logWeights.assign(n, 0.0);
  const size_t blocks = (n + kLwBlock - 1) / kLwBlock;
  std::atomic<size_t> done{0};
  std::mutex progressMutex;
  auto runBlock = [&](size_t b) -> Status {
    Rng rng = base.split(b);
    std::vector<double> out(model.numOutputs() + 1);
    JitTracing tracing;
    for (size_t i = b * kLwBlock; i < std::min(n, (b + 1) * kLwBlock); ++i) {
      if (run::stopRequested()) return Error("stopped: " + run::stopMessage());
      const Rng before = rng;
      JitRuntime rt;
      rt.rng = &rng;
      if (needChoices) {
        tracing.reset();
        rt.tracing = &tracing;
      }
      if (int rc = model(in.data(), out.data(), rt); rc != kOk) {
        // The interpreter's error, from the same state: its message and location.
        Rng again = before;
        RunOptions ro;
        ro.recordChoices = false;
        auto r = symbolic::run(f, inputs, again, ro);
        if (!r) return r.error();
        return Error(model.siteLocation(rt.errSite),
                     "compiled code failed (" + std::string(errorCodeName(rc)) +
                         ") where the interpreter did not: a bug of the JIT back end");
      }
      for (size_t q = 0; q < nq; ++q) {
        if ((*qs)[q].output >= 0) {
          p.draws[q][0][i] = out[at[q]];
          continue;
        }
        // The first choice at the address (Trace::find), NaN when absent.
        double v = std::numeric_limits<double>::quiet_NaN();
        if (keys[q])
          for (const JitChoice& c : tracing.trace.choices)
            if (tracing.trace.key(c) == *keys[q]) {
              v = c.value;
              break;
            }
        p.draws[q][0][i] = v;
      }
      p.logWeights[i] = rt.conditionFailed ? -std::numeric_limits<double>::infinity()
                                           : rt.logLikelihood + rt.logFactor;
    }
    size_t d = ++done;
    if (options.progress) {
      std::lock_guard<std::mutex> lock(progressMutex);
      options.progress(double(d) / double(blocks));
    }
    return Status::ok();
  };
  // Block 0 runs here first, timed. Compiled traces are fast, and a second thread pays only
  // when the remaining work is long compared with starting and scheduling it (on the loaded
  // 2-core development machine two threads took 16 ms for 100000 gauss traces, one took 8):
  // the other blocks go to options.threads threads only when they would take over 20 ms on one.
  // The blocks and their streams are fixed, so the result does not depend on this.
  const auto b0 = std::chrono::steady_clock::now();
  if (Status s0 = runBlock(0); !s0) return s0.error();
  const double perBlock = std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count();
  const int threads = perBlock * double(blocks - 1) > 0.020 ? options.threads : 1;
  Status st = runParallel(blocks - 1, threads, [&](size_t b) { return runBlock(b + 1); });
  if (!st) return st.error();
  p.logEvidence = logSumExp(p.logWeights) - std::log(double(n));
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (Status s = summarizePosterior(p); !s) return s.error();
  return p;
}

} // namespace chassis::codegen
