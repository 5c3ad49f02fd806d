// Single-site trace Metropolis-Hastings (Wingate, Stuhlmueller & Goodman 2011, "Lightweight
// implementations of probabilistic programming languages via transformational compilation").
//
// State: a trace t (choices by address) with log joint log p(t) = log prior + log weight. A move
// picks one of t's |t| choices uniformly, proposes a new value x' for it — from its prior given
// the current parameters (an independence proposal; always for discrete choices), or, for a
// continuous choice with probability 1/2, a Gaussian random walk x' = x + s_a z with a step s_a
// per address adapted during warm-up (Robbins-Monro towards acceptance 0.44) and frozen after —
// and re-runs the model with every other choice replayed (RunOptions::replay). Choices that the
// new control flow reaches for the first time are drawn fresh from their prior ("fresh"); choices
// of t that are no longer reached are dropped ("stale"). The move is accepted with probability
//     min(1, p(t') / p(t) * |t| / |t'| * q_site(x | x') / q_site(x' | x)
//            * prod_{stale} p(c) / prod_{fresh} p(c'))
// where q_site is the prior density of the chosen site (independence proposal) or cancels
// (symmetric random walk). This is the standard trace-MH acceptance ratio; it leaves the
// posterior invariant including when the set of choices changes.
//
// One iteration is a sweep of m single-site moves, m = the number of choices of the chain's
// initial trace (fixed: a number of moves that depended on the current state would not leave
// the posterior invariant). Each chain starts from a prior draw with
// positive weight (up to 1000 attempts), runs `warmup` iterations, then keeps every `thin`-th of
// the next samples * thin. Chain c uses the stream Rng(seed).split(c); chains run on
// options.threads threads with results identical to running them one after another.
#pragma once

#include "symbolic/infer.h"

namespace chassis::symbolic {

Expected<Posterior> inferMh(const ir::Function& f, std::span<const Value> inputs,
                            const InferOptions& options);

/// inferMh in two steps, so that chains can run apart (tools/mpi_chains.h: on MPI ranks).
/// One chain's kept draws (draws[q][i]) and its acceptance counts after warm-up.
struct MhChain {
  std::vector<std::vector<double>> draws;
  size_t accepted = 0, proposed = 0;
};
struct MhRun {
  std::vector<Quantity> quantities;
  std::vector<MhChain> chains;
  size_t samples = 0; // kept draws per chain
};
/// Runs the chains `chainIds` (in that order; empty: 0..options.chains-1). Chain c uses the
/// stream Rng(seed).split(c) whichever chains run with it, so runs of disjoint chain sets,
/// their chains put in order, equal one run of them all.
Expected<MhRun> runMhChains(const ir::Function& f, std::span<const Value> inputs,
                            const InferOptions& options, std::span<const size_t> chainIds);
/// The checks of the options and the quantities of runMhChains (resolveQuery on a probe run on
/// the stream Rng(seed).split(~0)): what every back end's MH starts from.
Expected<std::vector<Quantity>> mhQuantities(const ir::Function& f, std::span<const Value> inputs,
                                             const InferOptions& options);
/// inferMh's posterior of a run whose chains[c] is chain c of every chain.
Expected<Posterior> mhPosterior(MhRun run, double seconds);

/// Runs job(k) for k in [0, n) on up to `threads` threads; returns the first error by index.
Status runParallel(size_t n, int threads, const std::function<Status(size_t)>& job);

} // namespace chassis::symbolic
