// MCMC convergence diagnostics and summaries, following Vehtari, Gelman, Simpson, Carpenter &
// Buerkner (2021), "Rank-normalization, folding, and localization: an improved R-hat for
// assessing convergence of MCMC", Bayesian Analysis 16(2) — as implemented in Stan and the
// `posterior` R package.
//
// Input: draws[m][i], M >= 1 chains of equal length N >= 4. Every chain is split into halves
// (dropping the middle draw if N is odd), giving 2M chains of n = floor(N/2) draws.
//
//  * rhatBasic: for chains with means m_j, variances s_j^2 (denominator n-1):
//      W = mean_j s_j^2,  B/n = var_j(m_j),  var+ = (n-1)/n W + B/n,  R = sqrt(var+ / W).
//  * rank normalisation: z = Phi^{-1}((r - 3/8) / (S + 1/4)) with r the average rank of a draw
//    among all S draws.
//  * R-hat = max(bulk, tail): bulk = rhatBasic of the rank-normalised split chains; tail = the
//    same on the folded draws |x - median(x)|.
//  * essBasic: with per-chain autocovariances acov_j(t) (denominator n), the combined
//    autocorrelation rho(t) = 1 - (W - mean_j acov_j(t)) / var+, summed by Geyer's initial
//    positive sequence (pairs rho(2k) + rho(2k+1) while positive) made monotone (each pair no
//    larger than the previous); tau = -1 + 2 sum rho + (last even term if positive), floored at
//    1 / log10(S); ESS = S / tau. Autocovariances are computed directly, lag by lag, for the
//    first 64 lags (as far as the sequence runs); a sequence that runs further (a sticky chain)
//    takes every remaining lag from one FFT per chain: O(S log S) instead of O(S x lags).
//  * bulk ESS = essBasic of the rank-normalised split chains; tail ESS = the smaller of the
//    essBasic of the indicators I(x <= q05) and I(x <= q95).
//  * MCSE of the mean = sd / sqrt(essBasic of the raw split chains).
//  * quantiles: type 7 (linear interpolation between order statistics, as R's default):
//    h = (S - 1) p, q = x_(floor h) + (h - floor h)(x_(floor h + 1) - x_(floor h)), 0-based.
//
// A diagnostic that is undefined (e.g. every draw equal, so W = 0) is NaN.
#pragma once

#include "spec/error.h"

#include <initializer_list>
#include <vector>

namespace chassis::symbolic {

using Chains = std::vector<std::vector<double>>;

struct DrawSummary {
  double mean, sd, mcseMean;
  double q5, q50, q95;
  double rhat, rhatBulk, rhatTail;
  double essBulk, essTail, essMean;
};

/// Every figure above for one scalar quantity. Errors: no chains, chains of unequal length or
/// shorter than 4, non-finite draws.
Expected<DrawSummary> summarizeDraws(const Chains& draws);

/// The pieces, for tests and for callers that need only one. These take the chains as given
/// (no splitting); `splitChains` does the split.
Chains splitChains(const Chains& draws);
Chains rankNormalize(const Chains& chains);
double rhatBasic(const Chains& chains);
double essBasic(const Chains& chains);
/// Type-7 quantile of `xs` (need not be sorted), 0 <= p <= 1; NaN if empty.
double quantile7(std::vector<double> xs, double p);
/// quantile7 of `xs` at each of `ps`, with one sort.
std::vector<double> quantiles7(std::vector<double> xs, std::initializer_list<double> ps);

} // namespace chassis::symbolic
