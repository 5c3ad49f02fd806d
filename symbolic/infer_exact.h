// Exact inference on a .chs module whose random choices are all finite and discrete: the factor
// graph of symbolic/discrete_model.h (built from the IR, never by enumerating the joint), then
// variable elimination (symbolic/ve.h) for the posterior marginal of every queried quantity and
// log P(evidence) = log of the sum of the product of the factors. Each quantity (an output
// element, possibly a function of several choices, or a choice address) becomes one variable of
// the graph (a deterministic factor ties it to its scope). Its summary is computed from its
// exact distribution: mean, sd, and the 5/50/95% quantiles (the smallest value whose cumulative
// probability reaches p); R-hat, ESS and MCSE are undefined (NaN).
#pragma once

#include "symbolic/infer.h"

namespace chassis::symbolic {

/// Errors: a construct exact inference refuses (see discrete_model.h), evidence of probability
/// zero, a run-time error while building (located).
Expected<Posterior> inferExact(const ir::Function& f, std::span<const Value> inputs,
                               const InferOptions& options);

} // namespace chassis::symbolic
