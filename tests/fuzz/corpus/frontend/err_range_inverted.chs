// Ranges: lower bound above the upper bound.
module M(x: real in [10, 0]) -> (y: real) {
    y = x;
}
