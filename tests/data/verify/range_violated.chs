// Range obligations that can be broken (tests/verifier/range_obligations_test.cpp). Clamp's declared input
// range [0, 10] is an obligation at each of its calls:
//   Shifted   u in [0, 8], so u + 3 in [3, 11]: violated for u > 7 (the run fails at the call)
//   Noisy     a ~ Uniform(0, 4); the then-branch (a > 3) calls Clamp(a + 8), a + 8 in (11, 12]:
//             violated; the else-branch calls Clamp(a), a in [0, 3]: holds (the path condition)
//   Looped    Clamp(5 i) for i = 0, 1, 2, 3: 15 breaks the range at the last iteration
//   Guarded   the guard u > 1 of `||`'s right operand lets u = 8 through: Clamp(u + 3) violated
module Clamp(x: real in [0, 10]) -> (y: real) {
    y = 2.0 * x;
}

module Shifted(u: real in [0, 8]) -> (z: real) {
    let v = u + 3.0;
    z = Clamp(v).y;
}

module Noisy() -> (a: real, z: real) {
    a ~ Uniform(0.0, 4.0);
    if a > 3.0 {
        z = Clamp(a + 8.0).y;
    } else {
        z = Clamp(a).y;
    }
}

module Looped() -> (s: real[4]) {
    for i in 0..4 {
        s[i] = Clamp(5.0 * i).y;
    }
}

module Guarded(u: real in [0, 8]) -> (b: bool) {
    b = u <= 1.0 || Clamp(u + 3.0).y > 1.0;
}
