// Syntax: an operator where an operand is expected.
module M(x: real) -> (y: real) {
    y = x + * 2.0;
}
