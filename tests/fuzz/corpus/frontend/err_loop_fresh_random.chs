// Loops: a fresh random choice inside a loop would repeat its address.
module M() -> (y: real) {
    var s: real;
    for i in 0..3 {
        z ~ Normal(0.0, 1.0);
        s = s + z;
    }
    y = s;
}
