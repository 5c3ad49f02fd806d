// Arity: a module called with too many arguments.
module Double(v: real) -> (out: real) {
    out = 2.0 * v;
}
module M(x: real) -> (y: real) {
    y = Double(x, x);
}
