// Range obligations that hold (tests/verifier/range_obligations_test.cpp): every call of a ranged module
// gets arguments inside the callee's declared ranges, so `chassis verify` proves each one.
//   Safe      min(10, u + 3) with u in [0, 8]: in [3, 10] within Clamp's [0, 10]
//   Guarded   the noise is clipped to [0, 1] before the call of Unit (range [0, 1])
//   Squared   p * p with p in [-1, 1]: in [0, 1] (nonlinear, still proved)
//   Selected  Clamp(u + 3) only when u <= 7 (the other branch of `?:` is taken otherwise), and
//             Clamp(u - 1) only when u >= 1 (`&&` short-circuits): both guarded calls hold
module Clamp(x: real in [0, 10]) -> (y: real) {
    y = 2.0 * x;
}

module Unit(c: real in [0, 1]) -> (w: real) {
    e ~ Normal(0.0, 1.0);
    w = c + e;
}

module Safe(u: real in [0, 8]) -> (z: real) {
    z = Clamp(min(10.0, u + 3.0)).y;
}

module Guarded() -> (w: real) {
    n ~ Normal(0.5, 1.0);
    w = Unit(min(1.0, max(0.0, n))).w;
}

module Squared(p: real in [-1, 1]) -> (w: real) {
    w = Unit(p * p).w;
}

module Selected(u: real in [0, 8]) -> (z: real, b: bool) {
    z = u > 7.0 ? 0.0 : Clamp(u + 3.0).y;
    b = u >= 1.0 && Clamp(u - 1.0).y > 1.0;
}
