// compile-net test module: the absolute difference of two reals.
module AbsDiff(a: real in [-5, 5], b: real in [-5, 5]) -> (d: real) {
    d = abs(a - b);
}
