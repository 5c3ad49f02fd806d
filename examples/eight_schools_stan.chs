// Eight schools, non-centred, as posteriordb's eight_schools_noncentered writes it in Stan
// (bench/nuts/stan/eight_schools_noncentered.stan): J from the data file, the vectorised draw
// `theta_trans ~ normal(0, 1)` and likelihood `y ~ normal(theta, sigma)`, and Stan's
// `real<lower=0> tau; tau ~ cauchy(0, 5);` as tau ~ HalfCauchy(5) (the same density on tau > 0 up
// to a constant). examples/eight_schools.chs is the same model with J = 8 written in and a loop.
//   chassis infer examples/eight_schools_stan.chs EightSchools --data examples/eight_schools_stan.json --method nuts

module EightSchools(J: int, y: real[J], sigma: real[J]) -> (mu: real, tau: real, theta: real[J]) {
    mu ~ Normal(0.0, 5.0);
    tau ~ HalfCauchy(5.0);
    var theta_trans: real[J];
    theta_trans ~ Normal(0.0, 1.0);
    for j in 0..J {
        theta[j] = mu + tau * theta_trans[j];
    }
    observe(Normal(theta, sigma), y);
}
