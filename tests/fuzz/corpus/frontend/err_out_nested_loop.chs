// Outputs: element-wise assignment of an output in a nested loop.
module M(v: real[2]) -> (y: real[2]) {
    for i in 0..2 {
        for j in 0..1 {
            y[i] = v[i];
        }
    }
}
