// Matrix sizes: at most 1,000,000 elements in all; a matrix is not a scalar.
module D(x: real[2000, 1000]) -> () { }
module E(x: real[2, 3]) -> (y: real) { y = x; }
module F(K: real, x: real[2, K]) -> () { }
