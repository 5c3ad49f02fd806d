// Vectorised statements: an observe over an array (scalar or elementwise parameters) and a draw
// into a whole array, each the per-element statements in a loop.
module Regression(x: real[4], y: real[4], k: int[4]) -> (beta: real[2], z: int[3]) {
    alpha ~ Normal(0.0, 10.0);
    sigma ~ HalfNormal(1.0);
    var mu: real[4];
    for i in 0..4 {
        mu[i] = alpha + x[i];
    }
    observe(Normal(mu, sigma), y);
    observe(Normal(alpha, [1, 2, 3, 4]), y);
    observe(Poisson(exp(mu)), k);
    observe(Normal(0.0, 1.0), k);
    beta ~ Normal([0.0, 1.0], sigma);
    z ~ Categorical([0.2, 0.3, 0.5]);
}
