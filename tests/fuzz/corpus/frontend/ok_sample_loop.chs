// Addressed random choices in loops: `x[i] ~ D(...)` into an array output and into an array
// local, observations in a loop (a hierarchical model, like eight schools).

module Hier(y: real[4], sigma: real[4]) -> (mu: real, theta: real[4]) {
    mu ~ Normal(0.0, 5.0);
    tau ~ HalfCauchy(5.0);
    var z: real[4];
    for j in 0..4 {
        z[j] ~ Normal(0.0, 1.0);
    }
    for j2 in 0..4 {
        theta[j2] = mu + tau * z[j2];
        observe(Normal(theta[j2], sigma[j2]), y[j2]);
    }
}

module Coins() -> (flips: bool[3], heads: int) {
    for i in 0..3 {
        flips[i] ~ Bernoulli(0.5);
    }
    var h: int;
    for i2 in 0..3 {
        if flips[i2] {
            h = h + 1;
        }
    }
    heads = h;
}
