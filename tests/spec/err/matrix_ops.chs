// Operations on matrices: the matrix-vector product needs the row length; builtins,
// vectorised draws and observations take one-dimensional arrays (a row x[i] is one).
module M(X: real[3, 2], v: real[3], y: real[3, 2]) -> (a: real[3], b: real, c: real[3, 2]) {
    a = X * v;
    b = sum(X) + X * 2.0;
    var W: real[3, 2];
    W ~ Normal(0.0, 1.0);
    observe(Normal(0.0, 1.0), y);
    for i in 0..3 {
        c[i, 0] = 1.0;
    }
    var u: real[3];
    u[0, 1] = 1.0;
    var z: real;
    z[0, 1] = 1.0;
}
