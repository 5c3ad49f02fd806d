// Vectorised statements over whole matrices (§5.9): observe(D(...), Y) with Y: T[N, K] observes
// every element, x ~ D(...) into a real[N, K] output or var draws every element; a real
// parameter is a scalar (shared), a real[N, K] (elementwise) or a real[K] (one per column,
// shared by every row). Sizes from the data (matrix_vectorised.json).
module Model(N: int, K: int, Y: real[N, K], C: int[N, K]) -> (W: real[N, K]) {
    mu ~ Normal(0.0, 1.0);
    sigma ~ Flat(lower = 0.0);
    var col: real[K];
    col ~ Normal(0.0, 1.0);
    observe(Normal(mu, sigma), Y);
    observe(Normal(col, sigma), Y);
    W ~ Normal(mu, 1.0);
    observe(Normal(W, sigma), Y);
    var Z: real[N, K];
    Z ~ Normal(col, [1.0, 2.0, 0.5]);
    observe(Poisson(exp(col)), C);
    observe(Normal(mu, 2.0), C);
}

module Bits() -> (B: bool[2, 2]) {
    B ~ Bernoulli(0.3);
}
