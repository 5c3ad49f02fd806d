// Loops and outputs: sibling loops reusing an index name, an output filled element-wise with
// both branches of an `if` assigning it, y[i] read back after it is assigned in the iteration,
// a `var` assigned freely in nested loops, constant-folded and negative bounds, and an empty loop.

module Fill(v: real[3]) -> (y: real[3], s: real, count: int) {
    var t: real;
    for i in 0..3 {
        t = t + v[i];
    }
    for i in 0..3 {
        if v[i] > 0.0 {
            y[i] = v[i];
        } else {
            y[i] ~ Normal(0.0, 1.0);
        }
        t = t + y[i];
    }
    s = t;
    var c: int;
    for a in 0..2 * 2 - 1 {
        for b in -1..2 {
            c = c + a * b;
        }
    }
    for e in 3..0 {
        c = c - 1000;
    }
    count = c;
}
