// Loops: a bound that is an input is a size the data must give (check runs without data here).
module M(n: int in [0, 10]) -> (y: int) {
    var s: int;
    for i in 0..n {
        s = s + i;
    }
    y = s;
}
