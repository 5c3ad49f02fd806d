// Two-dimensional arrays: T[N, K] with literal sizes or sizes from the data (matrices.json),
// elements x[i, j], rows x[i] (one-dimensional), literals of rows, the matrix-vector product,
// element and row assignment, draws into elements, and a tuple let over a matrix output.
module Regression(N: int, K: int, X: real[N, K], y: real[N]) -> (beta: real[K]) {
    var b: real[K];
    for k in 0..K { b[k] ~ Normal(0.0, 10.0); }
    observe(Normal(X * b, 1.0), y);
    for n in 0..N { observe(Normal(dot(X[n], b), 1.0), y[n]); }
    beta = b;
}

module Shapes(i: int in [0, 1]) -> (m: real[2, 3], row: real[3], e: int, t: real) {
    let ints = [[1, 2, 3], [4, 5, 6]];
    var w: real[2, 3];
    w[0] = [1.5, 2.5, 3.5];
    w[1, i] = 2.0;
    w[i, 2] = w[0, 0] + ints[1, 2];
    for r in 0..2 {
        m[r] = w[r];
    }
    row = ints[i];
    e = ints[1, 1] * 2;
    t = sum(ints * [1, 0, -1]) + sum(row);
}

/// A random matrix drawn element by element; its addresses are z[i][j].
module Noise() -> (z: real[2, 2]) {
    var a: real[2, 2];
    for i in 0..2 {
        for j in 0..2 {
            a[i, j] ~ Normal(0.0, 1.0);
        }
    }
    z = a;
}

module Split() -> (lo: real, hi: real, z: real[2, 2]) {
    let n = Noise();
    lo = min(n[0, 0], n[1, 1]);
    hi = max(n[0, 0], n[1, 1]);
    z = n;
}

/// One call, one set of draws: lo <= hi holds.
module UsesSplit() -> (width: real, corner: real) {
    let (lo, hi, z) = Split();
    width = hi - lo;
    corner = z[1, 0];
}

property width_nonnegative: always[UsesSplit](width >= 0.0);
