// compile-net error cases: each module has one construct that is not piecewise linear.
module Product(x: real in [0, 1], y: real in [0, 1]) -> (z: real) {
    z = x * y;
}

module Expo(x: real in [0, 1]) -> (z: real) {
    let a = x + 1.0;
    z = exp(a);
}

module Noisy(x: real in [0, 1]) -> (z: real) {
    noise ~ Normal(0.0, 1.0);
    z = x + noise;
}

module NoRange(x: real) -> (z: real) {
    z = x;
}

module DivVar(x: real in [1, 2], y: real in [1, 2]) -> (z: real) {
    z = x / y;
}
