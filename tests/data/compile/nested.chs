// compile-net test module: nested calls of deterministic modules (inlined).
module Hinge(x: real in [-30, 30]) -> (y: real) {
    y = max(0.0, x) - 1.0;
}

module Twice(x: real in [-10, 10]) -> (y: real) {
    y = Hinge(x).y + Hinge(-2.0 * x + 3.0).y;
}

module Outer(a: real in [-5, 5], b: real in [-5, 5]) -> (z: real, pos: bool) {
    let t = Twice(a + b).y;
    z = t - Twice(a - b).y;
    pos = t > 2.0;
}
