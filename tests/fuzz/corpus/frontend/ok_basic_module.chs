// A module with typed, ranged inputs of every scalar type and several outputs.

/// Scales a reading into a bounded command.
/// Doc comments may span several lines.
module Scale(x: real in [-10, 10], k: int in [1, 5], on: bool) -> (y: real, big: bool, n: int) {
    let gain = 2.5;
    let offset: real = 0.5;
    y = if on then gain * x * k + offset else 0.0;
    big = y > 10.0 || y < -10.0;
    n = k * 3 - 1;
}

/// Inputs without ranges, an int range written with negative bounds.
module Shift(a: real, b: int in [-3, 3]) -> (c: real) {
    c = a + b;
}
