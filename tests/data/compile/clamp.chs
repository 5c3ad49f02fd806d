// compile-net test module: an affine map saturated to [-5, 10] with min/max.
module Clamp(x: real in [-20, 20]) -> (y: real) {
    y = min(10.0, max(-5.0, 2.0 * x + 1.0));
}
