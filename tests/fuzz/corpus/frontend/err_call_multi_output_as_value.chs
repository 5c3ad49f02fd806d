// Calls: a module with two outputs needs `.out` to be used as a value.
module Split(v: real) -> (lo: real, hi: real) {
    lo = v - 1.0;
    hi = v + 1.0;
}
module M(x: real) -> (y: real) {
    y = Split(x);
}
