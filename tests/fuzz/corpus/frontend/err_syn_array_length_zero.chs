// Syntax: an array length is a positive integer.
module M(x: real[0]) -> (y: real) {
    y = 1.0;
}
