// Syntax: no arrays of arrays (a two-dimensional array is written T[N, K]).
module M(x: real[2][2]) -> (y: real) {
    y = 1.0;
}
