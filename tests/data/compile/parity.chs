// compile-net test module: 3-sparse parity of 8 bools (the parity of x[1], x[4], x[6]).
module Parity(x: bool[8]) -> (p: bool) {
    p = (x[1] != x[4]) != x[6];
}
