// Operations on matrices: the matrix-vector product needs the row length; builtins take
// one-dimensional arrays (a row x[i] is one); an output matrix is not assigned by elements.
module M(X: real[3, 2], v: real[3]) -> (a: real[3], b: real, c: real[3, 2]) {
    a = X * v;
    b = sum(X) + X * 2.0;
    for i in 0..3 {
        c[i, 0] = 1.0;
    }
    var u: real[3];
    u[0, 1] = 1.0;
    var z: real;
    z[0, 1] = 1.0;
}
