// Syntax: arrays are one-dimensional.
module M(x: real[2][2]) -> (y: real) {
    y = 1.0;
}
