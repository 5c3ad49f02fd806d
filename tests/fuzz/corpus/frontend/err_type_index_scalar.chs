// Type: only arrays can be indexed.
module M(x: real) -> (y: real) {
    y = x[0];
}
