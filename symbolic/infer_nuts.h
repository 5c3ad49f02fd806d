// Gradient-based MCMC: HMC with the No-U-Turn Sampler, as in Stan. The target is the model's log
// joint density over its continuous choices in unconstrained space (symbolic/ad.h), with
// gradients from the recorded tape; draws are returned in the constrained space.
//
// The transition is the multinomial ("generalised") NUTS of Betancourt (2017), "A conceptual
// introduction to Hamiltonian Monte Carlo", appendix A, as implemented in Stan's base_nuts:
//  * momentum p ~ N(0, M) with a diagonal metric M^{-1} = diag(invMetric) (Stan's diag_e, the
//    default) or a dense one (dense_e: p = U^{-1} u, u ~ N(0, I), with the Cholesky factor
//    M^{-1} = U'U); H(q, p) = -L(q) + p' M^{-1} p / 2; leapfrog steps of size eps;
//  * the trajectory doubles, each time in a random direction, building a balanced binary tree of
//    2^depth leapfrog states (maximum depth 10);
//  * a state is drawn with probability proportional to exp(-H) within each new subtree, and the
//    new subtree's draw replaces the current one with probability min(1, w_new / w_old) (biased
//    progressive sampling, which favours the far end);
//  * the U-turn criterion uses the generalised momentum rho = sum of p over the (sub)tree:
//    stop when p#_minus . rho <= 0 or p#_plus . rho <= 0 (p# = M^{-1} p), checked over every
//    subtree, over the merged tree, and over the two "extended" trees that join each subtree with
//    the first state of the other (the additional checks of Stan's base_nuts, present in
//    rstan 2.21.7's StanHeaders as in later Stan);
//  * a leaf whose energy error H - H0 exceeds 1000 is divergent: the doubling stops, and the
//    transition is counted as divergent.
// Warm-up adaptation, Stan's defaults: the step size by dual averaging (Nesterov; Hoffman &
// Gelman 2014) towards a mean acceptance statistic of 0.8 (gamma 0.05, t0 10, kappa 0.75,
// mu = log(10 eps), eps the nominal initial step size 1 in the first window as in Stan's
// services, then the re-initialised one after each metric update); the diagonal metric from the
// variances (dense: the covariance matrix, regularised the same way on its diagonal) of the draws
// in windows (an initial fast buffer of 75 iterations, windows of 25, 50, 100, ... doubling, a terminal buffer of 50;
// scaled down proportionally for short warm-ups), each estimate regularised towards 1e-3 as
// (n/(n+5)) var + 1e-3 (5/(n+5)), after which the step size is re-initialised (doubling/halving
// until the one-step acceptance crosses 0.8) and the dual averaging restarted; at the end of
// warm-up eps = exp(x_bar).
//
// Chains run on `threads` threads; chain c uses the stream Rng(seed).split(c), its own tape and
// its own state, so the draws do not depend on the thread schedule: same seed, same draws, bit
// for bit.
#pragma once

#include "spec/error.h"
#include "spec/ir.h"
#include "symbolic/diagnostics.h"
#include "symbolic/infer.h"
#include "symbolic/interp.h"

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace chassis::symbolic {

class LogDensityTape;

/// The log density and its gradient at a position, as LogDensityTape::logDensity(u, grad).
using LogDensityGradientFn =
    std::function<Expected<double>(std::span<const double> u, std::span<double> grad)>;

struct NutsOptions {
  size_t warmup = 1000, samples = 1000, chains = 4, thin = 1;
  uint64_t seed = 0;
  int threads = 2;
  double targetAccept = 0.8;
  int maxTreeDepth = 10;
  /// Initial positions: every unconstrained coordinate uniform in (-initRadius, initRadius).
  double initRadius = 2.0;
  /// The metric: diagonal (Stan's diag_e, the default) or dense (dense_e: a full covariance
  /// adapted in the same windows, its Cholesky factor used for the momentum).
  bool denseMetric = false;
  /// Energy error above which a leapfrog step is divergent.
  double maxDeltaH = 1000.0;
  /// Called now and then with the fraction done (0..1), from one thread at a time; may be empty.
  std::function<void(double)> progress;
  /// The chains to run, in this order (empty: 0..chains-1). Chain c uses Rng(seed).split(c)
  /// whichever chains run with it, so runs of disjoint chain sets (tools/mpi_chains.h: on MPI
  /// ranks), their chains put in order, equal one run of them all.
  std::vector<size_t> chainIds;
  /// The gradient backend: when set, called with each chain's tape once it is initialised, it
  /// returns the function the sampler evaluates instead of the tape's own sweeps (codegen/
  /// tape_compiler.h: the tape compiled by LLVM). It must compute what the tape computes (the
  /// sampler reads the draws' values from the tape's forward sweep). Empty: the tape's sweeps.
  std::function<LogDensityGradientFn(LogDensityTape&)> gradient;
  /// Each chain's tape fuses the per-element log densities of a distribution into one node
  /// (symbolic/ad.h; the default). false keeps one node per element (the tape compiler,
  /// codegen/tape_compiler.h, compiles either).
  bool fuseTape = true;
};

/// The sampler's diagnostics of one kept draw, as CmdStan records them per draw (its lp__,
/// accept_stat__, stepsize__, treedepth__, n_leapfrog__, divergent__, energy__ columns).
struct NutsDrawStats {
  double logDensity = 0; // log density at the draw: unconstrained space, Jacobian included
  double acceptStat = 0; // mean of min(1, exp(H0 - H)) over the trajectory's leapfrog states
  double stepSize = 0;   // the step size of the transition
  int treeDepth = 0;     // doublings of the trajectory
  size_t leapfrogs = 0;  // leapfrog steps of the transition
  bool divergent = false;
  double energy = 0; // the Hamiltonian H(q, p) at the drawn state
};

struct NutsChainResult {
  /// draws[q][i]: quantity q (choices, then output scalars) at kept iteration i.
  std::vector<std::vector<double>> draws;
  /// drawStats[i]: the sampler's diagnostics at kept iteration i (recording them changes no draw).
  std::vector<NutsDrawStats> drawStats;
  /// Wall seconds of the warm-up and of the sampling iterations (for CmdStan's timing block).
  double warmupSeconds = 0, samplingSeconds = 0;
  double stepSize = 0;           // after adaptation
  std::vector<double> invMetric; // diagonal of M^{-1} after adaptation
  std::vector<double> invMetricDense; // dense metric only: M^{-1}, d x d row-major
  size_t divergences = 0;        // after warm-up
  double meanAcceptStat = 0;     // after warm-up
  double meanTreeDepth = 0;      // after warm-up
  size_t leapfrogSteps = 0;      // gradient evaluations in all (warm-up included)
  size_t maxDepthHits = 0;       // transitions that reached maxTreeDepth after warm-up
};

struct NutsResult {
  /// The continuous choices' addresses (in position order), then the output scalars' names.
  std::vector<std::string> names;
  size_t numChoices = 0;
  std::vector<NutsChainResult> chains;
  size_t divergences = 0;
  double meanAcceptStat = 0;
  /// The draws of quantity q as chains (for symbolic/diagnostics.h).
  Chains chainsOf(size_t q) const;
  /// Index of a name in `names` (choices first), or -1.
  int find(std::string_view name) const;
  /// Sets divergences and meanAcceptStat from `chains` (runNuts does).
  void sumChains();
};

/// Runs NUTS on `f` with bound `inputs`. Errors: the model's (discrete choices, asserts,
/// trans-dimensional control flow, no finite starting point; located), or options out of range.
Expected<NutsResult> runNuts(const ir::Function& f, std::span<const Value> inputs,
                             const NutsOptions& options);

/// The `chassis infer --method nuts` entry: runNuts with InferOptions' settings, the quantities
/// of InferOptions::query (symbolic/infer.h), summarised by summarizePosterior.
/// When `sampler` is not null it receives the run itself (per-draw diagnostics, step sizes and
/// metrics, for symbolic/stan_csv.h).
Expected<Posterior> inferNuts(const ir::Function& f, std::span<const Value> inputs,
                              const InferOptions& options, NutsResult* sampler = nullptr);

/// inferNuts in steps, so that chains can run apart: runNuts(f, inputs, nutsOptionsOf(options))
/// (with NutsOptions::chainIds), then nutsPosterior of a run whose chains[c] is chain c of all.
NutsOptions nutsOptionsOf(const InferOptions& options);
Expected<Posterior> nutsPosterior(const ir::Function& f, const InferOptions& options,
                                  NutsResult run, double seconds, NutsResult* sampler = nullptr);

} // namespace chassis::symbolic
