// Likelihood weighting (importance sampling with the prior as proposal): N independent runs of
// the model, each drawing its choices from the prior; trace i gets weight w_i = exp(logWeight_i)
// (likelihood of the observes times the factors, zero if a condition fails). Then
//     E[g | evidence] ~ sum_i w_i g(x_i) / sum_i w_i,   p(evidence) ~ (1/N) sum_i w_i,
// computed in log space (log-sum-exp), with the Kish effective sample size (sum w)^2 / sum w^2.
// Traces run in blocks of kLwBlock, block b on the stream Rng(seed).split(b), so the result is
// the same whatever the number of threads.
#pragma once

#include "symbolic/infer.h"

namespace chassis::symbolic {

inline constexpr size_t kLwBlock = 4096;

/// options.samples traces. Errors: a run-time error of the model (located), an unknown query.
Expected<Posterior> inferLw(const ir::Function& f, std::span<const Value> inputs,
                            const InferOptions& options);

} // namespace chassis::symbolic
