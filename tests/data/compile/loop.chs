// compile-net test module: a for loop (unrolled) over an array input with a running maximum.
module Loop(x: real[4] in [-1, 1]) -> (s: real, m: real) {
    var acc: real = 0.0;
    var best: real = -1.0;
    for i in 0..4 {
        acc = acc + abs(x[i]) * 0.5;
        best = max(best, x[i]);
    }
    s = acc;
    m = best;
}
