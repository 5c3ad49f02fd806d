// Syntax: a call is an expression, not a statement.
module Double(v: real) -> (out: real) {
    out = 2.0 * v;
}
module M(x: real) -> (y: real) {
    Double(x);
    y = x;
}
