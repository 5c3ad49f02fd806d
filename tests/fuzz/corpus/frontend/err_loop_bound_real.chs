// Loops: bounds are ints.
module M() -> (y: int) {
    var s: int;
    for i in 0..2.5 {
        s = s + 1;
    }
    y = s;
}
