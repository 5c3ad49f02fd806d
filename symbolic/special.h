// Special functions shared by the runtime's distributions, exact inference and MCMC diagnostics:
// log-space helpers (log-sum-exp, log choose, log beta) and the standard normal CDF and quantile.
// All are plain double-precision maths with no state.
#pragma once

#include <string>

namespace chassis::symbolic {

/// log(exp(a) + exp(b)) without overflow; -inf if both are -inf.
double logAddExp(double a, double b);
// (log-sum-exp over a span is symbolic/summary.h's logSumExp.)
/// log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b), for a, b > 0.
double logBeta(double a, double b);
/// log C(n, k) for integral 0 <= k <= n.
double logChoose(double n, double k);
/// Standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2.
double normalCdf(double x);
/// Phi^{-1}(p) for 0 < p < 1 (Wichura's AS 241 PPND16, relative accuracy about 1e-16);
/// -inf at 0, +inf at 1, NaN outside [0, 1].
double normalQuantile(double p);
/// The shortest decimal text that reads back as `x` ("-1", "0.5", "inf", "nan"), used in messages.
std::string formatNumber(double x);

} // namespace chassis::symbolic
