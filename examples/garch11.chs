// GARCH(1,1), as posteriordb's garch-garch11 (Stan program in bench/nuts/stan/garch11.stan): the
// returns y[t] ~ Normal(mu, sigma[t]) with a volatility that follows the last shock and itself,
//
//   sigma[1] = sigma1 (data),  sigma[t]^2 = alpha0 + alpha1 (y[t-1] - mu)^2 + beta1 sigma[t-1]^2
//
// Stan's constrained parameters with no sampling statement are flat priors on their supports:
// real mu; real<lower=0> alpha0; real<lower=0, upper=1> alpha1;
// real<lower=0, upper=(1-alpha1)> beta1 (a bound that depends on alpha1: Flat, not Uniform).
// Data: simulated (posteriordb's own garch data is not available offline) by
// bench/nuts/simulate_data with a fixed seed; reference posterior: Stan's
// (bench/nuts/make_reference), in tests/data/posteriordb/garch11_simulated-garch11.
//   chassis infer examples/garch11.chs Garch11 --data examples/garch11.json --method nuts

module Garch11(T: int, y: real[T], sigma1: real)
    -> (mu: real, alpha0: real, alpha1: real, beta1: real) {
    mu ~ Flat();
    alpha0 ~ Flat(lower = 0.0);
    alpha1 ~ Flat(lower = 0.0, upper = 1.0);
    beta1 ~ Flat(lower = 0.0, upper = 1.0 - alpha1);
    var sigma: real[T];
    sigma[0] = sigma1;
    for t in 1..T {
        sigma[t] = sqrt(alpha0 + alpha1 * square(y[t - 1] - mu) + beta1 * square(sigma[t - 1]));
    }
    observe(Normal(mu, sigma), y);
}
