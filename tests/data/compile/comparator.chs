// compile-net test module: a comparator, out = [a <= b] (one comparison compiled with the margin).
module Cmp(a: real in [0, 10], b: real in [0, 10]) -> (out: bool) {
    out = a <= b;
}
