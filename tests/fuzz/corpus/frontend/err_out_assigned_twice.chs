// Outputs: assigned twice on one path.
module M(x: real) -> (y: real) {
    y = x;
    y = 2.0 * x;
}
