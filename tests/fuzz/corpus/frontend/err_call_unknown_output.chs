// Calls: selecting an output the module does not have.
module Split(v: real) -> (lo: real, hi: real) {
    lo = v - 1.0;
    hi = v + 1.0;
}
module M(x: real) -> (y: real) {
    y = Split(x).nope;
}
