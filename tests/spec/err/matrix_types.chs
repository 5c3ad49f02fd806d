// Matrix types: at most two dimensions, sizes positive.
module A(x: real[2, 3, 4]) -> () { }
module B(x: real[2][3]) -> () { }
module C(x: real[0, 3]) -> () { }
