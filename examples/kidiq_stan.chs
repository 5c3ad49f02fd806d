// kidiq as posteriordb's kidiq-kidscore_momiq writes it in Stan (bench/nuts/stan/kidscore_momiq.stan):
// N from the data file, Stan's unbounded `vector[2] beta` with no sampling statement as a flat
// prior, `real<lower=0> sigma; sigma ~ cauchy(0, 2.5);` as sigma ~ HalfCauchy(2.5) (the same
// density on sigma > 0 up to a constant), and the vectorised likelihood
// `kid_score ~ normal(beta[1] + beta[2] * mom_iq, sigma)`. Only NUTS samples a flat prior;
// examples/kidiq.chs is the same regression with a proper (wide Normal) prior on beta, which every
// inference method can draw from.
//   chassis infer examples/kidiq_stan.chs KidIQ --data examples/kidiq_stan.json --method nuts

module KidIQ(N: int, kid_score: real[N], mom_iq: real[N]) -> (beta: real[2], sigma: real) {
    beta ~ Flat();
    sigma ~ HalfCauchy(2.5);
    var mu: real[N];
    for i in 0..N {
        mu[i] = beta[0] + beta[1] * mom_iq[i];
    }
    observe(Normal(mu, sigma), kid_score);
}
