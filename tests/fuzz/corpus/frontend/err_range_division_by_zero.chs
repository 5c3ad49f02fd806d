// Ranges: a bound that divides by zero.
module M(x: real in [0, 1 / 0]) -> (y: real) {
    y = x;
}
