// A Stan habit: drawing data with '~'. Inputs are data; the hint says to observe them.
module Regression(y: real[3], x: real[3], s: real) -> (a: real) {
    a ~ Normal(0.0, 10.0);
    for t in 0..3 {
        y[t] ~ Normal(a * x[t], 1.0);
    }
    s ~ HalfNormal(1.0);
}
