// Module calls: named outputs with `.out`, a one-output callee used directly as a value, calls
// as arguments of calls, int arguments promoted to real inputs, array arguments, callees
// declared after their callers, and a module with no outputs.

module Top(x: real in [0, 10]) -> (y: real, ok: bool) {
    y = Split(Double(x), 3).hi + Double(Double(1));
    ok = Split(x, 1).lo <= Split(x, 1).hi && Norm([x, 1.0]) >= 0.0;
}

module Split(v: real, k: int in [1, 5]) -> (lo: real, hi: real) {
    lo = v - k;
    hi = v + k;
}

/// One output: callable as a value.
module Double(v: real) -> (out: real) {
    out = 2.0 * v;
}

module Norm(a: real[2]) -> (n: real) {
    n = sqrt(dot(a, a));
}

/// No outputs: a module may declare none (it only asserts).
module Check(v: real) {
    assert v > -1000.0;
}
