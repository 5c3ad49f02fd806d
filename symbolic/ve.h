// Exact inference by variable elimination over a discrete factor model.
//
// The model is a set of variables (name, cardinality) and non-negative factors over them; its
// unnormalised joint is the product of the factors. Given evidence E = e, the posterior marginal
// of a query variable q is
//     P(q | e) = sum_{x \ {q, E}} prod_f f(x, e)  /  Z(e),   Z(e) = sum_{x \ E} prod_f f(x, e),
// and for a Bayesian network (factors = CPTs) Z(e) = P(e). Elimination sums the other variables
// out one at a time, each time multiplying only the factors that mention it, so the cost is
// exponential in the induced width of the elimination order, never in the number of variables:
// the joint is never enumerated. The order is chosen greedily on the interaction (moral) graph —
// an edge between every two variables that share a factor — by minimum fill-in (the number of
// edges eliminating the variable would add among its neighbours), ties broken by minimum degree,
// then by variable name, then by id, so the order (and every printed figure) is deterministic.
// One order is computed per call; each query variable is kept by skipping it in that order.
#pragma once

#include "spec/error.h"
#include "symbolic/factor.h"

#include <span>
#include <string>
#include <utility>
#include <vector>

namespace chassis::symbolic {

struct VarInfo {
  std::string name;
  int card = 0;
};

/// Variables indexed by VarId (0..vars.size()-1) and the factors over them.
struct FactorModel {
  std::vector<VarInfo> vars;
  std::vector<Factor> factors;
};

struct Observation {
  VarId var;
  int state;
};

struct VeResult {
  /// One distribution per query variable, in query order; entries sum to 1.
  std::vector<std::vector<double>> marginals;
  /// log Z(e): log P(evidence) when the factors are a Bayesian network's CPTs.
  double logEvidence = 0;
};

/// Posterior marginals of `query` and log Z(e) under `evidence`. Errors: an unknown variable
/// id, a state out of range, contradictory evidence on one variable, a factor whose cardinality
/// disagrees with its variable, evidence of probability zero (Z(e) = 0).
Expected<VeResult> variableElimination(const FactorModel& model, std::span<const VarId> query,
                                       std::span<const Observation> evidence);

/// The greedy min-fill elimination order (see above) of every variable mentioned by `factors`
/// except those in `keep`. Exposed for tests and for printing.
std::vector<VarId> minFillOrder(const std::vector<VarInfo>& vars,
                                const std::vector<Factor>& factors, std::span<const VarId> keep);

} // namespace chassis::symbolic
