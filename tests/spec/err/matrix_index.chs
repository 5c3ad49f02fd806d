// Indices of two-dimensional arrays: each constant index is checked against its own length.
module M(X: real[3, 2], v: real[4], i: int) -> (a: real, b: real, c: real, d: real, e: real) {
    a = X[3, 0];
    b = X[0, 2];
    c = v[1, 2];
    d = X[i, 1.5];
    e = X[0][5];
}
