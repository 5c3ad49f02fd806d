// Constrained-parameter transforms for gradient-based inference (HMC/NUTS). A continuous random
// choice x with a bounded support is sampled through an unconstrained u in R, x = c(u), and the
// density of u is the density of x times the Jacobian |dx/du| (the change of variables), so
//
//   log p_u(u) = log p_x(c(u)) + log |c'(u)|.
//
// The transforms (as in Stan's reference manual, "Constraint transforms"):
//   R            identity:      x = u,                          log|J| = 0
//   (lo, inf)    shifted log:   x = lo + exp(u),                log|J| = u
//   (-inf, hi)   reflected log: x = hi - exp(u),                log|J| = u
//   (lo, hi)     scaled logit:  x = lo + (hi - lo) sigmoid(u),  log|J| = log(hi - lo)
//                                                                        + log sigmoid(u) + log(1 -
//                                                                        sigmoid(u))
//                (the (0, 1) logit is lo = 0, hi = 1). log sigmoid(u) + log(1 - sigmoid(u)) is
//                computed as -softplus(u) - softplus(-u) (no cancellation); its derivative is
//                1 - 2 sigmoid(u).
// The support of each continuous distribution picks the transform (its trait's transform(), in
// symbolic/dist_traits.h): Uniform(lo, hi) -> scaled
// logit; Beta -> logit; HalfNormal, HalfCauchy, Exponential, Gamma, LogNormal -> log; Normal,
// Cauchy, StudentT -> identity; the flat priors of Stan's constrained parameters by their bounds:
// Flat -> identity, FlatLower(lo) -> log, FlatUpper(hi) -> reflected log, FlatInterval(lo, hi)
// -> scaled logit. (Closed and open ends are the same to a density.)
// Stan's constrained arrays compose these scalar transforms, each element's bounds given by the
// earlier elements (spec/lower.cpp writes `x ~ Flat(ordered)` and `x ~ Flat(simplex)` so):
//   ordered[K]   x_0 = u_0, x_k = x_{k-1} + exp(u_k) (FlatLower(x_{k-1})),  log|J| = sum u_k;
//   simplex[K]   stick-breaking over K - 1 coordinates, x_k = rest_k z_k with
//                z_k = sigmoid(u_k - log(K-1-k)) (FlatInterval(0, rest_k) with the draw's
//                transformShift -log(K-1-k), spec/ir.h), rest_{k+1} = rest_k - x_k,
//                x_{K-1} = rest_{K-1}; log|J| = sum log(rest_k z_k (1 - z_k)). This is Stan's
//                simplex_constrain with its centring offset: u = 0 gives z_k = 1/(K-k), so
//                x_k = 1/K, the uniform simplex (simplexConstrain below writes it out);
//   positive     x_k = exp(u_k) elementwise (FlatLower(0)), log|J| = sum u_k.
// The Jacobian of each map is triangular, so its log-determinant is the sum of the scalar ones.
#pragma once

#include "spec/dist_kind.h"

#include <span>
#include <vector>

namespace chassis::symbolic {

enum class TransformKind { Identity, LowerBound, UpperBound, Interval };

struct Transform {
  TransformKind kind = TransformKind::Identity;
  double lo = 0, hi = 0; // LowerBound uses lo; UpperBound hi; Interval both
};

/// The transform for a continuous distribution's support (Uniform uses its parameters).
Transform transformFor(DistKind k, std::span<const double> params);

/// x = c(u).
double constrain(const Transform& t, double u);
/// u = c^{-1}(x) for x inside the support (the boundary maps to +-inf).
double unconstrain(const Transform& t, double x);
/// dx/du.
double constrainDerivative(const Transform& t, double u);
/// log |dx/du| and its derivative with respect to u.
double logAbsJacobian(const Transform& t, double u);
double logAbsJacobianDerivative(const Transform& t, double u);

/// log sigmoid(u) + log(1 - sigmoid(u)), without cancellation (the logit Jacobian term).
double logSigmoidJacobian(double u);
/// sigmoid(u) = 1 / (1 + exp(-u)) without overflow.
double sigmoid(double u);

/// Stan's simplex transform, written out (the tape composes it from scalar draws, above): the
/// K - 1 unconstrained coordinates u to the K elements of a simplex.
std::vector<double> simplexConstrain(std::span<const double> u);
/// Its inverse on the open simplex (every x_k > 0, sum 1): u_k = logit(x_k / rest_k) +
/// log(K-1-k), K - 1 coordinates.
std::vector<double> simplexUnconstrain(std::span<const double> x);
/// log |det dx/du| of simplexConstrain, over x_0 .. x_{K-2} (triangular: the sum of
/// log(rest_k z_k (1 - z_k))).
double simplexLogAbsJacobian(std::span<const double> u);

} // namespace chassis::symbolic
