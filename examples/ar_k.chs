// AR(K), as posteriordb's arK-arK (Stan program in bench/nuts/stan/arK.stan): each y[t] is a
// linear function of the K values before it plus Gaussian noise,
//
//   alpha ~ Normal(0, 10),  beta[k] ~ Normal(0, 10),  sigma ~ HalfCauchy(2.5)
//   y[t] ~ Normal(alpha + sum_k beta[k] y[t-k], sigma)          for t = K+1..T (1-based)
//
// K and T come from the data file. Stan's `real<lower=0> sigma; sigma ~ cauchy(0, 2.5);` is
// sigma ~ HalfCauchy(2.5): the same density on sigma > 0 up to a constant factor.
// Data: simulated (posteriordb's own arK data is not available offline) by bench/nuts/simulate_data
// with a fixed seed; reference posterior: Stan's (bench/nuts/make_reference), in
// tests/data/posteriordb/ar5_simulated-arK.
//   chassis infer examples/ar_k.chs ArK --data examples/ar_k.json --method nuts

module ArK(K: int, T: int, y: real[T]) -> (alpha: real, beta: real[K], sigma: real) {
    alpha ~ Normal(0.0, 10.0);
    beta ~ Normal(0.0, 10.0);
    sigma ~ HalfCauchy(2.5);
    for t in K..T {
        var mu: real = alpha;
        for k in 0..K {
            mu = mu + beta[k] * y[t - k - 1];
        }
        observe(Normal(mu, sigma), y[t]);
    }
}
