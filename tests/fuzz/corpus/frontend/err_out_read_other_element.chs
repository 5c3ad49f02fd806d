// Outputs: while the loop fills y, only y[i] may be read.
module M(v: real[2]) -> (y: real[2]) {
    for i in 0..2 {
        y[i] = v[i] + y[0];
    }
}
