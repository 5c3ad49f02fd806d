// Loops: bounds must be constant integer expressions.
module M(n: int in [0, 10]) -> (y: int) {
    var s: int;
    for i in 0..n {
        s = s + i;
    }
    y = s;
}
