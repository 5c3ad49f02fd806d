// Sequential Monte Carlo (a bootstrap particle filter over the program's execution) with
// systematic resampling.
//
// Granularity: every observe statement, in execution order, anywhere in the module (typically a
// loop of observes). N particles each hold the choices of a partial execution. Stage k advances
// every particle to just after its k-th observe by re-executing the module with the particle's
// choices replayed (RunOptions::replay) and stopping after k observes
// (RunOptions::stopAfterObserves): choices up to observe k-1 are kept, the new ones (between
// observe k-1 and k) are drawn from the prior, and the particle's log weight grows by what the
// execution's weight gained since the previous stage (the k-th observe, plus any factor or
// condition in between). A particle whose execution ends before a k-th observe is finished (its
// outputs are read then). After each stage, when the effective sample size (sum w)^2 / sum w^2
// falls below N/2, the particles are resampled systematically (one uniform u ~ U(0, 1/N), copies
// at u + j/N of the cumulative normalised weights) and their weights reset; the log evidence is
//     log Z = sum over resampling stages of log(mean w) + log(mean of the final w),
// an unbiased estimate of Z on the natural scale. No rejuvenation moves. Re-execution makes a
// stage cost O(length of the prefix), so a run with T observes costs O(N T^2) statements.
// Determinism: particle i at stage k draws from Rng(seed).split(k * N + i); resampling uses
// Rng(seed, 1); particles are advanced on options.threads threads with identical results.
#pragma once

#include "symbolic/infer.h"

namespace chassis::symbolic {

Expected<Posterior> inferSmc(const ir::Function& f, std::span<const Value> inputs,
                             const InferOptions& options);

} // namespace chassis::symbolic
