// Ranges: bounds must be constants.
module M(a: real, x: real in [0, a]) -> (y: real) {
    y = x;
}
