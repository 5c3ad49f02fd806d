// Type: a bool argument for a real input.
module Double(v: real) -> (out: real) {
    out = 2.0 * v;
}
module M() -> (y: real) {
    y = Double(true);
}
