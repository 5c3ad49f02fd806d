// Posterior summaries shared by every inference engine: per quantity the mean, sd, 5/50/95%
// quantiles, and for MCMC the rank-normalised split R-hat, bulk and tail ESS and the MCSE of the
// mean (symbolic/diagnostics.h); for weighted draws (LW, SMC) the self-normalised estimates
//     mean = sum_i w_i x_i,  sd^2 = sum_i w_i (x_i - mean)^2,  w_i = exp(l_i - logsumexp(l)),
// the weighted quantiles (the smallest x whose cumulative weight reaches p), the effective sample
// size ESS = 1 / sum w_i^2 (Kish) and MCSE = sd / sqrt(ESS). Discrete quantities (bool, int, enum)
// also get their distribution (value -> probability). Warnings say what to try. The table and
// JSON renderings used by `chassis infer` live here too, so their field names stay in one place.
#pragma once

#include "symbolic/infer.h"

#include <nlohmann/json.hpp>

#include <limits>
#include <ostream>

namespace chassis::symbolic {

/// log(sum exp(x)) without overflow; -inf for an empty or all -inf input.
double logSumExp(std::span<const double> xs);

/// A part of a log-sum-exp over consecutive pieces of one sequence: the piece's largest value
/// `max` and sum = sum exp(x - max) (max = -inf and sum = 0 for an empty or all -inf piece).
struct LogSumExpPart {
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0;
};
/// The part of `xs` (its terms summed in four interleaved lanes, then the lanes; exp by
/// expOfNonPositive).
LogSumExpPart logSumExpPart(std::span<const double> xs);
/// exp(x) for x <= 0 (or -inf, NaN) as logSumExpPart takes it: within a few ulps of std::exp,
/// 0 below -708, computed by arithmetic alone (the same bits on every machine).
double expOfNonPositive(double x);
/// log(sum exp(x)) over the pieces of `parts` (in order): M + log(sum_p exp(max_p - M) sum_p)
/// with M the largest max; -inf when every piece is empty or all -inf. A deterministic function
/// of the parts, but not logSumExp of the whole bit for bit (the terms are grouped by piece).
double combineLogSumExp(std::span<const LogSumExpPart> parts);

/// Fills p.summaries (and p.ess and the warnings) from p.draws / p.logWeights. Errors: draws of
/// the wrong shape.
Status summarizePosterior(Posterior& p);

/// The human-readable table: one row per quantity (mean, sd, 5%, 50%, 95%, R-hat, ESS bulk,
/// ESS tail, MCSE), then for exact results the distribution of each discrete quantity, then
/// log P(evidence) and the warnings. `ctx` names enum values.
void printTable(const Posterior& p, const ir::Context& ctx, std::ostream& os);

/// The same as JSON with stable field names: {"method", "chains", "samples", "quantities": [{
/// "name", "mean", "sd", "q5", "q50", "q95", "rhat", "ess_bulk", "ess_tail", "mcse",
/// "distribution": [[value, p], ...]}], "log_evidence", "ess", "accept_rate", "divergences",
/// "warnings"}; undefined numbers are null.
nlohmann::ordered_json toJson(const Posterior& p);

} // namespace chassis::symbolic
