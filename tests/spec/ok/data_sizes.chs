// Sizes from the data: T and K are int inputs whose values data_sizes.json gives; the program is
// checked (and run) with those values as fixed lengths and loop bounds.
module Regression(T: int, K: int in [1, 10], x: real[T], y: real[T], w: real[K]) -> (alpha: real, mu: real[T]) {
    alpha ~ Normal(0.0, 10.0);
    var fitted: real[T];
    for t in 0..T {
        fitted[t] = alpha + x[t] * sum(w);
        observe(Normal(fitted[t], 1.0), y[t]);
    }
    for k in 1..K - 1 {
        factor(-w[k] * w[k]);
    }
    mu = fitted;
}

// A constant parameter: an int input whose range holds one value fixes the size without data.
module Fixed(J: int in [3, 3], theta: real[J]) -> (total: real) {
    var s: real;
    for j in 0..J {
        s = s + theta[j];
    }
    total = s;
}
