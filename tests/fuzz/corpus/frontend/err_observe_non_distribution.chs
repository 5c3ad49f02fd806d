// observe takes a distribution, not a module call.
module Double(v: real) -> (out: real) {
    out = 2.0 * v;
}
module M(x: real) -> (y: real) {
    observe(Double(x), 1.0);
    y = x;
}
