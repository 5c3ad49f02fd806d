// The common types of inference on .chs models: what every engine takes (InferOptions) and what
// it returns (Posterior), so `chassis infer` prints every method's result the same way.
//
// Engines (one entry function each, all over one ir::Function and its bound inputs):
//   inferExact  (symbolic/infer_exact.h)  variable elimination over factors built from the IR
//   inferLw     (symbolic/infer_lw.h)     likelihood weighting (importance sampling from the prior)
//   inferMh     (symbolic/infer_mh.h)     single-site trace Metropolis-Hastings
//   inferSmc    (symbolic/infer_smc.h)    sequential Monte Carlo over suspended runs, resample-move
//   inferNuts   (symbolic/infer_nuts.h)   HMC / NUTS (written by the NUTS engineer)
//
// Quantities. What is summarised is a list of scalar quantities, each named either by an output
// of the module (an array output `y` becomes `y[0]`, `y[1]`, ...; bools are 0/1, enums their index)
// or by the address of a random choice (`theta`, `x[3]`, `Sensor/noise`). InferOptions::query
// selects them (resolveQuery); empty means every output, or every choice of the first run when the
// module has no outputs.
//
// Contract for a sampling engine (MCMC, one chain per RNG stream Rng(seed).split(chain)): fill
// Posterior::quantities, Posterior::draws[q][chain][i] (equally weighted draws after warm-up) and
// the method-specific fields (divergences for NUTS), then call summarizePosterior (symbolic/
// summary.h), which computes mean, sd, quantiles, R-hat, ESS and MCSE and the warnings.
// A weighted engine (LW, SMC) fills `logWeights` (one per draw, single chain) instead.
#pragma once

#include "spec/error.h"
#include "spec/ir.h"
#include "symbolic/interp.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace chassis::symbolic {

enum class InferMethod { Exact, LW, MH, NUTS, SMC };

struct InferOptions {
  InferMethod method = InferMethod::MH;
  /// Draws kept per chain (MCMC), traces (LW) or particles (SMC).
  size_t samples = 1000;
  /// Independent chains (MCMC) — each on its own stream Rng(seed).split(chain).
  size_t chains = 4;
  /// Warm-up iterations per chain (MCMC), discarded; adaptation happens during warm-up.
  size_t warmup = 1000;
  /// Keep every `thin`-th iteration after warm-up (MCMC).
  size_t thin = 1;
  uint64_t seed = 0;
  /// Worker threads for chains (results do not depend on it).
  int threads = 2;
  /// Quantities to summarise (output names or choice addresses); empty: see the header comment.
  std::vector<std::string> query;
  /// NUTS: target acceptance statistic, maximum tree depth, and the radius of the initial
  /// positions (each unconstrained coordinate uniform in (-initRadius, initRadius); Stan's init).
  double targetAccept = 0.8;
  int maxTreeDepth = 10;
  double initRadius = 2.0;
  /// NUTS: adapt and use a dense metric (full covariance) instead of the diagonal one.
  bool denseMetric = false;
  /// SMC: Metropolis-Hastings rejuvenation steps per particle after each resampling (0: none),
  /// each moving one choice drawn since the last `smcRejuvenationLag` observes.
  size_t smcRejuvenationMoves = 2;
  size_t smcRejuvenationLag = 1;
  /// Called now and then with the fraction of the work done (0..1); may be empty. Called from
  /// one thread at a time.
  std::function<void(double)> progress;
};

/// One scalar quantity: an output element or a choice address.
struct Quantity {
  std::string name;   // as printed: "rain", "y[1]", "theta[3]"
  int output = -1;    // index of the output, or -1 for a choice
  int element = -1;   // element of an array output (flattened), or -1 for a scalar output
  std::string address; // the choice address when output == -1
  ir::Type type;      // the scalar type (Bool/Int/Enum/Real)
};

/// The summary of one quantity (NaN where undefined, e.g. R-hat for LW or exact).
struct QuantitySummary {
  std::string name;
  double mean = std::nan(""), sd = std::nan("");
  double q5 = std::nan(""), q50 = std::nan(""), q95 = std::nan("");
  double rhat = std::nan(""), essBulk = std::nan(""), essTail = std::nan("");
  double mcse = std::nan("");
  /// Exact (and discrete quantities of LW/SMC): value -> probability, by increasing value.
  std::vector<std::pair<double, double>> distribution;
  /// Draws in which the quantity existed (a choice may be absent when control flow changes).
  size_t present = 0;
};

struct Posterior {
  InferMethod method = InferMethod::MH;
  std::vector<Quantity> quantities;
  /// MCMC: draws[q][chain][i]. LW/SMC: draws[q][0][i] with logWeights[i]. Exact: empty.
  std::vector<std::vector<std::vector<double>>> draws;
  /// LW / SMC: the log weight of each draw (unnormalised).
  std::vector<double> logWeights;
  /// Filled by summarizePosterior (or directly by exact).
  std::vector<QuantitySummary> summaries;
  /// log P(evidence): exact (log Z), LW (log mean weight), SMC (sum of log mean weights);
  /// NaN for MCMC.
  double logEvidence = std::nan("");
  /// LW/SMC: effective sample size of the final weights, (sum w)^2 / sum w^2.
  double ess = std::nan("");
  /// MCMC: acceptance rate over all chains after warm-up.
  double acceptRate = std::nan("");
  /// NUTS: divergent transitions after warm-up (summed over chains).
  size_t divergences = 0;
  /// NUTS: the sampler's state per chain after warm-up (what Stan users read off CmdStan's
  /// diagnose: step size, tree depth, divergences, transitions at the maximum depth).
  struct SamplerChain {
    double stepSize = 0, meanTreeDepth = 0, meanAcceptStat = 0;
    size_t divergences = 0, maxDepthHits = 0, leapfrogs = 0;
  };
  std::vector<SamplerChain> sampler;
  int maxTreeDepth = 0; // NUTS: the limit the chains ran with
  /// SMC: how many times particles were resampled.
  size_t resamplings = 0;
  /// SMC: the standard error of logEvidence (Lee-Whiteley variance estimator, delta method), how
  /// many initial particles still have descendants with positive weight (when that falls to 1 the
  /// variance estimate is no longer informative), and the rejuvenation acceptance rate.
  double logEvidenceSe = std::nan("");
  size_t smcEves = 0;
  double rejuvenationAcceptRate = std::nan("");
  /// Warnings, each saying what to try (R-hat > 1.01, low ESS, divergences, ...).
  std::vector<std::string> warnings;
  size_t chains = 1, samplesPerChain = 0;
  /// Wall seconds spent drawing (or, for exact, building the factors and eliminating), without
  /// the summaries; not part of the printed result (it would break byte-identical output).
  double seconds = std::nan("");
};

/// The quantities named by `query` (see the header comment). An unknown name is an Error listing
/// the outputs. A name that is not an output is taken as a choice address when some sample
/// statement reachable from `f` has that base name (the part before '[' of its last segment);
/// the name of an array of choices (`theta` for `theta[i] ~ ...`) stands for every element
/// `firstRun` drew, in the order drawn.
/// With an empty query: every output element; when `f` has no outputs, the choices of
/// `firstRun` (may be null, then nothing).
Expected<std::vector<Quantity>> resolveQuery(const ir::Function& f,
                                             const std::vector<std::string>& query,
                                             const Trace* firstRun);

/// The value of each quantity in one run (bool 0/1, enum index; NaN for an absent choice).
void readQuantities(std::span<const Quantity> qs, const RunResult& run, std::vector<double>& out);

std::string methodName(InferMethod m); // "exact", "lw", "mh", "nuts", "smc"

} // namespace chassis::symbolic
