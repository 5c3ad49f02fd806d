// Each row of a matrix constrained (Stan's array[N] simplex[K] and array[N] ordered[K]): drawn
// whole into an output or a var matrix, or row by row in the loop over the rows (an output
// assigned row by row), with a size from a constant parameter.
module Rows(S: int in [3, 3], y: int[4]) -> (theta: real[S, S], cut: real[2, 4], w: real[2, 3]) {
    theta ~ Flat(simplex);
    var c: real[2, 4];
    c ~ Flat(ordered);
    cut = c;
    for i in 0..2 {
        w[i] ~ Flat(simplex);
    }
    var o: real[3, 2];
    for r in 0..3 {
        o[r] ~ Flat(ordered);
    }
    for t in 1..4 {
        observe(Categorical(theta[y[t - 1]]), y[t]);
    }
}
