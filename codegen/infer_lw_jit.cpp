// Likelihood weighting on compiled code (see infer_lw_jit.h): symbolic/lw_driver.h's blocks over
// compiled runs: the generated block loop (JitModel::runLwBlock) when every quantity is an
// output, one traced run per trace otherwise.
#include "codegen/infer_lw_jit.h"

#include "codegen/infer_mh_jit.h"
#include "symbolic/lw_driver.h"

#include <chrono>
#include <cmath>
#include <limits>

namespace chassis::codegen {

using namespace chassis::symbolic;

namespace {

/// One compiled trace per run() (traced when a quantity reads a choice), its buffers kept.
class CompiledLwRunner {
public:
  CompiledLwRunner(const ir::Function& f, std::span<const Value> inputs,
                   const std::vector<double>& in, const JitModel& model,
                   const std::vector<size_t>& at, const std::vector<std::optional<std::string>>& keys,
                   bool needChoices)
      : f_(f), inputs_(inputs), in_(in), model_(model), at_(at), keys_(keys),
        needChoices_(needChoices), out_(model.numOutputs() + 1) {}

  Status run(Rng& rng, std::vector<double>& values, double& logWeight) {
    const Rng before = rng;
    JitRuntime rt;
    rt.rng = &rng;
    if (needChoices_) {
      tracing_.reset();
      rt.tracing = &tracing_;
    }
    if (int rc = model_(in_.data(), out_.data(), rt); rc != kOk)
      return interpretedError(before, rc, rt.errSite);
    values.resize(at_.size());
    for (size_t q = 0; q < at_.size(); ++q) {
      if (at_[q] != kChoice) {
        values[q] = out_[at_[q]];
        continue;
      }
      // The first choice at the address (Trace::find), NaN when absent.
      double v = std::numeric_limits<double>::quiet_NaN();
      if (keys_[q])
        for (const JitChoice& c : tracing_.trace.choices)
          if (tracing_.trace.key(c) == *keys_[q]) {
            v = c.value;
            break;
          }
      values[q] = v;
    }
    logWeight = rt.conditionFailed ? -std::numeric_limits<double>::infinity()
                                   : rt.logLikelihood + rt.logFactor;
    return Status::ok();
  }

  /// Whether runMany() runs the traces (every quantity an output: no choice to record; the
  /// model compiled with its block loop).
  bool many() const { return !needChoices_ && model_.hasLwBlock(); }
  /// `count` untraced traces in one call of the generated block loop (JitModel::runLwBlock):
  /// trace j's log weight at logWeights[j], quantity q's value at draws[q][j]. A failing trace
  /// is re-run by the interpreter from the state it started from, for its error.
  Status runMany(Rng& rng, size_t count, double* logWeights, std::span<double* const> draws) {
    const size_t numOut = model_.numOutputs();
    rows_.resize(std::max<size_t>(count * numOut, 1));
    JitRuntime rt;
    rt.rng = &rng;
    int64_t done = 0;
    if (int rc = model_.runLwBlock(in_.data(), rows_.data(), rt, int64_t(count), logWeights, done);
        rc != kOk)
      return interpretedError(rng, rc, rt.errSite); // rng: the failing trace's starting state
    for (size_t q = 0; q < draws.size(); ++q) {
      const double* src = rows_.data() + at_[q];
      double* dst = draws[q];
      for (size_t j = 0; j < count; ++j)
        dst[j] = src[j * numOut];
    }
    return Status::ok();
  }

  static constexpr size_t kChoice = SIZE_MAX; // at_[q] of a choice quantity

private:
  /// The interpreter's error for a trace that failed compiled with code `rc` at site `errSite`,
  /// re-run from the generator state `from` the trace started with: its message and location.
  Error interpretedError(Rng from, int rc, int errSite) const {
    RunOptions ro;
    ro.recordChoices = false;
    auto r = symbolic::run(f_, inputs_, from, ro);
    if (!r) return r.error();
    return Error(model_.siteLocation(errSite),
                 "compiled code failed (" + std::string(errorCodeName(rc)) +
                     ") where the interpreter did not: a bug of the JIT back end");
  }

  const ir::Function& f_;
  std::span<const Value> inputs_;
  const std::vector<double>& in_;
  const JitModel& model_;
  const std::vector<size_t>& at_;
  const std::vector<std::optional<std::string>>& keys_;
  bool needChoices_;
  std::vector<double> out_;
  std::vector<double> rows_; // runMany's outputs, one row per trace
  JitTracing tracing_;
};

} // namespace

Expected<Posterior> inferLwCompiled(const ir::Function& f, std::span<const Value> inputs,
                                    const InferOptions& options, const JitModel& model) {
  const auto t0 = std::chrono::steady_clock::now();
  auto qs = lwQuantities(f, inputs, options);
  if (!qs) return qs.error();
  // Where each quantity is: an element of the flat output buffer, or a choice of a traced run
  // under its key (runtime.h JitChoice; none when no run can form the address).
  std::vector<size_t> outOffset, at;
  size_t off = 0;
  for (const ir::Var* o : f.outputs()) {
    outOffset.push_back(off);
    off += o->type().numScalars();
  }
  std::vector<std::optional<std::string>> keys;
  bool needChoices = false;
  for (const Quantity& q : *qs) {
    at.push_back(q.output < 0 ? CompiledLwRunner::kChoice
                              : outOffset[size_t(q.output)] + size_t(std::max(q.element, 0)));
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
  // Compiled traces are fast, and a second thread pays only when the remaining work is long
  // compared with starting and scheduling it (on the loaded 2-core development machine two
  // threads took 16 ms for 100000 gauss traces, one took 8): block 0 runs alone first, timed.
  return runLw(std::move(*qs), options, t0, true, [&] {
    return CompiledLwRunner(f, inputs, in, model, at, keys, needChoices);
  });
}

} // namespace chassis::codegen
