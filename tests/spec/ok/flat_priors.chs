// Flat priors: Stan's constrained parameters (real<lower=0>, real<lower=0, upper=1-alpha>, ...)
// as random choices with an unnormalised density 1 on their support; bounds are expressions.
module Garch(T: int, y: real[T]) -> (sigma: real) {
    mu ~ Flat();
    alpha0 ~ Flat(lower = 0.0);
    alpha1 ~ Flat(lower = 0.0, upper = 1.0);
    beta1 ~ Flat(upper = 1.0 - alpha1, lower = 0.0);
    neg ~ Flat(upper = 0);
    var s: real = 1.0;
    for t in 1..T {
        s = sqrt(alpha0 + alpha1 * square(y[t - 1] - mu) + beta1 * s * s);
        observe(Normal(mu, s), y[t]);
    }
    factor(lpdf(Flat(lower = 0.0), alpha0) + neg);
    sigma = s;
}
