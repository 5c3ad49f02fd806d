// Constrained-parameter transforms (see transforms.h for the maths).
#include "symbolic/transforms.h"

#include "symbolic/dist_traits.h"

#include <cmath>
#include <limits>

namespace chassis::symbolic {

namespace {
/// log(1 + exp(x)) without overflow.
double softplus(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}
} // namespace

double sigmoid(double u) {
  return u >= 0 ? 1 / (1 + std::exp(-u)) : std::exp(u) / (1 + std::exp(u));
}

double logSigmoidJacobian(double u) {
  return -softplus(u) - softplus(-u);
}

Transform transformFor(DistKind k, std::span<const double> params) {
  return dispatch(k, [&](auto d) { return decltype(d)::transform(params); });
}

double constrain(const Transform& t, double u) {
  switch (t.kind) {
  case TransformKind::Identity:
    return u;
  case TransformKind::LowerBound:
    return t.lo + std::exp(u);
  case TransformKind::UpperBound:
    return t.hi - std::exp(u);
  case TransformKind::Interval:
    return t.lo + (t.hi - t.lo) * sigmoid(u);
  }
  return u;
}

double unconstrain(const Transform& t, double x) {
  switch (t.kind) {
  case TransformKind::Identity:
    return x;
  case TransformKind::LowerBound:
    return std::log(x - t.lo);
  case TransformKind::UpperBound:
    return std::log(t.hi - x);
  case TransformKind::Interval: {
    double s = (x - t.lo) / (t.hi - t.lo);
    return std::log(s) - std::log1p(-s);
  }
  }
  return x;
}

double constrainDerivative(const Transform& t, double u) {
  switch (t.kind) {
  case TransformKind::Identity:
    return 1;
  case TransformKind::LowerBound:
    return std::exp(u);
  case TransformKind::UpperBound:
    return -std::exp(u);
  case TransformKind::Interval: {
    double s = sigmoid(u);
    return (t.hi - t.lo) * s * (1 - s);
  }
  }
  return 1;
}

double logAbsJacobian(const Transform& t, double u) {
  switch (t.kind) {
  case TransformKind::Identity:
    return 0;
  case TransformKind::LowerBound:
  case TransformKind::UpperBound:
    return u;
  case TransformKind::Interval:
    return std::log(t.hi - t.lo) + logSigmoidJacobian(u);
  }
  return 0;
}

double logAbsJacobianDerivative(const Transform& t, double u) {
  switch (t.kind) {
  case TransformKind::Identity:
    return 0;
  case TransformKind::LowerBound:
  case TransformKind::UpperBound:
    return 1;
  case TransformKind::Interval:
    return 1 - 2 * sigmoid(u);
  }
  return 0;
}

std::vector<double> simplexConstrain(std::span<const double> u) {
  const size_t km1 = u.size(); // K - 1
  std::vector<double> x;
  x.reserve(km1 + 1);
  double rest = 1;
  for (size_t k = 0; k < km1; ++k) {
    const double z = sigmoid(u[k] - std::log(double(km1 - k)));
    x.push_back(rest * z);
    rest -= x.back();
  }
  x.push_back(rest);
  return x;
}

std::vector<double> simplexUnconstrain(std::span<const double> x) {
  const size_t km1 = x.empty() ? 0 : x.size() - 1;
  std::vector<double> u;
  u.reserve(km1);
  double rest = 1;
  for (size_t k = 0; k < km1; ++k) {
    const double z = x[k] / rest;
    u.push_back(std::log(z) - std::log1p(-z) + std::log(double(km1 - k)));
    rest -= x[k];
  }
  return u;
}

double simplexLogAbsJacobian(std::span<const double> u) {
  const size_t km1 = u.size();
  double rest = 1, logJ = 0;
  for (size_t k = 0; k < km1; ++k) {
    const double v = u[k] - std::log(double(km1 - k));
    logJ += std::log(rest) + logSigmoidJacobian(v);
    rest -= rest * sigmoid(v);
  }
  return logJ;
}

} // namespace chassis::symbolic
