// Fixed-size arrays: array types on inputs, outputs and locals, literals, indexing (constant and
// by a loop index), element-wise assignment of an output inside a loop over 0..N, nested loops.

module Matrix(v: real[3], w: int[3]) -> (out: real[3], total: real, flags: bool[2]) {
    var acc: real[3];
    for i in 0..3 {
        for j in 0..3 {
            acc[i] = acc[i] + v[j] * w[(i + j) % 3];
        }
    }
    for k in 0..3 {
        out[k] = acc[k] + 1.0;
    }
    var t: real = 0.0;
    for m in 0..3 {
        t = t + out[m];
    }
    total = t;
    flags = [total > 0.0, v[2] < v[0]];
}

module Literals() -> (a: int[4], b: real[2]) {
    let base = [1, 2, 3, 4];
    a = base;
    b = [0.5, -1.5];
}
