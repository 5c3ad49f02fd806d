// Outputs: the filling loop must run over 0..N, N the array's length.
module M(v: real[3]) -> (y: real[3]) {
    for i in 0..2 {
        y[i] = v[i];
    }
}
