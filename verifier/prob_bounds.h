// Probability and expectation properties, P[M](event | given) cmp p and E[M](expr) cmp c, decided
// by the first method that applies:
//
// 1. Exact, by variable elimination (models whose random choices are all finite and discrete).
//    symbolic::buildDiscreteModel turns M into a factor graph without enumerating the joint; the
//    event (and the condition) become one more variable Q of that graph: its value under each
//    assignment of the few variables the referenced outputs depend on (Q = event + 2 * given for
//    P; the expression's value for E), tied to them by a deterministic 0/1 factor. Variable
//    elimination (symbolic/ve.h, min-fill order) gives Q's posterior marginal, so
//        P(event | given) = P(Q = 3) / (P(Q = 2) + P(Q = 3)),   E[expr] = sum_k q_k P(Q = q_k),
//    at the cost of VE (exponential only in the induced width), never of enumeration. The
//    posterior is M's: observe/condition/factor are factors of the graph.
//    Error allowance: every quantity is a sum of products of non-negative numbers, so each
//    rounding is a relative error of at most u = 2^-53, and a result built with at most N
//    roundings along any path is within (1 + u)^N - 1 <= 1.01 N u relative. We bound N by
//    8 (sum of cardinalities + 4 factors + 16) (products, sums, rescalings, normalisation,
//    and the exp/log of factor.h's log-scale, each within an ulp), and add 1e-12 relative per
//    factor for the CPT entries themselves (computed by the distributions' log-pmf then exp).
//    The interval [v - e, v + e] (e = that relative bound, tripled for a ratio; for E, relative
//    to sum_k |q_k| P(Q = q_k)) then contains the real-arithmetic value.
//    When M calls modules with declared input ranges, VE is used only if Z3 proves that no run
//    violates them (unsat(supports /\ !ranges) over M's symbolic execution): the factor graph
//    does not check them, while a run fails where they are violated; otherwise method 2.
// 2. Exact, by enumeration of the traces through the interpreter (each choice replayed), when
//    the factor-graph builder refuses the model (e.g. addresses that depend on random values) or
//    for range checks: bounded to 200,000 traces, the sums float64, the interval the value
//    widened by (n + 2) 2^-51 relative. A run that fails (a range violated) stops it.
// 3. Certified cells (continuous models without observe/factor/condition and with constant
//    distribution parameters: Uniform, Normal, Exponential, HalfNormal). The space of the choices
//    is partitioned into boxes, starting from the prior's support cut at the 1e-30-tail
//    quantiles (the tails count as undecided); each cell is proved inside the event (Z3:
//    cell /\ !event unsat) or outside it (cell /\ event unsat), or split in two along its widest
//    coordinate (largest undecided mass first), until the bound is decided or the cell budget is
//    spent. A cell is decided only when, in addition, every point of it satisfies the model's
//    assumptions (the declared input ranges of the modules it calls): where a range can be
//    violated the run fails, and such mass stays undecided rather than counted on either side.
//    A decided cell counts with a LOWER bound of its mass (choiceMassLowerBound): the product
//    of its prior CDF differences with every float64 step rounded outward (std::nextafter): the
//    standardised bounds as intervals, each erfc / exp value widened by 8 ulps (glibc documents
//    at most 5 for erfc, 1 for exp), each difference, product and sum rounded down. That bounds
//    the absolute cancellation error of erfc(a) - erfc(b) on small cells, which a relative
//    widening of the float64 difference does not. So lo = sum of inside lower masses and
//    hi = 1 - sum of outside lower masses (rounded up) bound the real probability.
// Anything else is `unknown` with the reason.
//
// 4. Only when asked (VerifyOptions::statistical), for a P property the above leave undecided:
//    a Monte Carlo estimate. N runs of M (seeded); runs where a condition() fails or `given` is
//    false are rejected (rejection sampling, so accepted runs are independent draws from the
//    conditional distribution); models with observe or factor are refused (their weights would
//    need importance sampling, whose error has no exact binomial interval). With k hits among
//    n accepted runs and alpha = 1 - confidence, the Clopper-Pearson interval is
//        lo = B^-1(alpha/2; k, n - k + 1)  (0 when k = 0),
//        hi = B^-1(1 - alpha/2; k + 1, n - k)  (1 when k = n),
//    B^-1 the inverse of the regularised incomplete beta function I_x(a, b) (continued fraction,
//    inverted by bisection). It covers the true probability with probability >= confidence. The
//    result is labelled statistical and NEVER reported as holds or violated.
#pragma once

#include "verifier/properties.h"

namespace chassis::verifier {

/// Fills r's verdict, interval and method for a Probability or Expectation property.
void checkProbability(const ir::Program& program, const ir::Property& prop,
                      const VerifyOptions& opts, PropertyResult& r);

/// The Monte Carlo estimate of method 4 (P properties only). Errors: a model with inputs,
/// observe or factor; a run that fails; no accepted sample.
Expected<StatisticalEstimate> estimateProbability(const ir::Property& prop,
                                                  const VerifyOptions& opts);

/// A lower bound, valid in real arithmetic, of P(a <= X <= b) for one choice X ~ dist(params)
/// (Uniform, Normal, Exponential, HalfNormal; 0 for any other), the cell method's mass of one
/// coordinate: every float64 step is rounded outward, libm's erfc / exp assumed within 8 ulps.
double choiceMassLowerBound(DistKind dist, const std::vector<double>& params, double a, double b);

/// The regularised incomplete beta function I_x(a, b) (a, b > 0, x in [0, 1]).
double incompleteBetaRegularized(double a, double b, double x);

/// The Clopper-Pearson interval for k successes in n trials at `confidence` (in (0, 1)).
std::pair<double, double> clopperPearson(uint64_t k, uint64_t n, double confidence);

} // namespace chassis::verifier
