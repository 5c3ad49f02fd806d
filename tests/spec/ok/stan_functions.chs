// The functions Stan users write: square, pow, fabs, log_sum_exp, log_mix and lpdf (of every
// distribution), on ints and reals, in module bodies, conditional operands and properties, and
// the tuple let binding a module's several outputs from one call.

module StanMath(x: real in [0.5, 4], y: real in [-2, 2], n: int in [-3, 3], v: real[3], u: int[2])
    -> (r: real, i: int, sq: real[3], isq: int[2]) {
    let s = square(x) + square(y) + square(n);
    let p = pow(x, 3) + pow(y, -2) + pow(x, 0.5) + pow(n, 2) + pow(x, y) + pow(2, n) + pow(y, 0);
    let f = fabs(y) + fabs(n);
    let l = log_sum_exp(x, y) + log_sum_exp(n, 1) + log_sum_exp(v) + log_sum_exp(u);
    let m = log_mix(0.25, x, y) + log_mix(x / 5.0, -1.0, n);
    let c = x > 1.0 ? pow(x - 1.0, 0.5) : log_sum_exp(x, 0.0); // conditional operands
    r = s + p + f + l + m + c;
    i = square(n) + square(u[0]);
    sq = square(v);
    isq = square(u);
}

module Densities(x: real in [0.1, 0.9], k: int in [0, 5], b: bool, probs: real[3]) -> (lp: real) {
    let c = lpdf(Normal(0.0, 1.0), x) + lpdf(HalfNormal(2.0), x) + lpdf(LogNormal(0.0, 1.0), x)
        + lpdf(Cauchy(0.0, 1.0), x) + lpdf(HalfCauchy(1.0), x) + lpdf(StudentT(3.0, 0.0, 1.0), x)
        + lpdf(StudentT(2 + 1, x, 1), 0) + lpdf(Exponential(1.5), x) + lpdf(Uniform(0.0, 1.0), x)
        + lpdf(Gamma(2.0, x), 1.0) + lpdf(Beta(2, 3.5), x);
    let d = lpdf(Bernoulli(x), b) + lpdf(Categorical(probs), k) + lpdf(DiscreteUniform(0, 5), k)
        + lpdf(Geometric(x), k) + lpdf(Poisson(x), 3) + lpdf(Binomial(10, x), 4);
    lp = c + d;
}

/// A Gaussian mixture written as Stan writes it: factor(log_mix(...)) over the data.
module Mixture(y: real[4]) -> (mu1: real, mu2: real) {
    mu1 ~ Normal(-1.0, 2.0);
    mu2 ~ Normal(1.0, 2.0);
    theta ~ Uniform(0.05, 0.95);
    for t in 0..4 {
        factor(log_mix(theta, lpdf(Normal(mu1, 1.0), y[t]), lpdf(Normal(mu2, 1.0), y[t])));
    }
}

module Pair(x: real) -> (lo: real, hi: real) {
    e ~ Normal(0.0, 1.0);
    lo = x - fabs(e);
    hi = x + fabs(e);
}

module DetPair(x: real) -> (a: real, b: int, c: bool) {
    a = square(x);
    b = 2;
    c = x > 0.0;
}

/// Both outputs of one random call: `lo <= hi` holds because they share the draw.
module UsesPair() -> (width: real) {
    let (lo, hi) = Pair(3.0);
    let (a, b, c) = DetPair(lo);
    width = hi - lo + (c ? a : b);
}

property width_nonnegative: always[UsesPair](width >= 0.0);
property pow_square: forall z in [-3, 3]: pow(z, 2) == square(z);
property lse_above_max: forall p in [-5, 5], q in [-5, 5]: log_sum_exp(p, q) >= max(p, q);
