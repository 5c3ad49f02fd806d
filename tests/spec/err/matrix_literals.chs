// Literals of rows: every row one-dimensional, of one length and one element type.
module M(X: real[2, 2]) -> (a: real[2, 2], b: real[2, 2], c: real[2, 2], d: real[2, 2]) {
    a = [[1.0, 2.0], [3.0]];
    b = [[1.0, 2.0], 3.0];
    c = [[true, false], [1, 2]];
    d = [X, X];
}
