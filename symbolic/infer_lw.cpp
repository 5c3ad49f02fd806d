// Likelihood weighting (see infer_lw.h) on the interpreter: lw_driver.h's blocks over one
// interpreted run per trace.
#include "symbolic/infer_lw.h"

#include "symbolic/lw_driver.h"

namespace chassis::symbolic {

Expected<std::vector<Quantity>> lwQuantities(const ir::Function& f, std::span<const Value> inputs,
                                             const InferOptions& options) {
  if (options.samples == 0) return Error("--samples must be at least 1");
  // A probe run (its own stream) gives the choices for a default query of a module without
  // outputs.
  Rng probeRng = Rng(options.seed).split(~uint64_t(0));
  auto probe = run(f, inputs, probeRng);
  if (!probe) return probe.error();
  return resolveQuery(f, options.query, &probe->trace);
}

namespace {

/// One interpreted trace per run(); choices are recorded only when a quantity reads one.
class InterpretedLwRunner {
public:
  InterpretedLwRunner(const ir::Function& f, std::span<const Value> inputs,
                      std::span<const Quantity> qs)
      : f_(f), inputs_(inputs), qs_(qs) {
    bool needChoices = false;
    for (auto& q : qs) needChoices = needChoices || q.output < 0;
    ro_.recordChoices = needChoices;
  }
  Status run(Rng& rng, std::vector<double>& values, double& logWeight) const {
    auto r = symbolic::run(f_, inputs_, rng, ro_);
    if (!r) return r.error();
    readQuantities(qs_, *r, values);
    logWeight = r->trace.logWeight();
    return Status::ok();
  }

private:
  const ir::Function& f_;
  std::span<const Value> inputs_;
  std::span<const Quantity> qs_;
  RunOptions ro_;
};

} // namespace

Expected<Posterior> inferLw(const ir::Function& f, std::span<const Value> inputs,
                            const InferOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  auto qs = lwQuantities(f, inputs, options);
  if (!qs) return qs.error();
  const std::vector<Quantity>& quantities = *qs;
  return runLw(quantities, options, t0, false,
               [&] { return InterpretedLwRunner(f, inputs, quantities); });
}

} // namespace chassis::symbolic
