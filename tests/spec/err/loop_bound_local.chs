// Loops: a bound must be a constant expression; a local is not one (only int inputs, whose
// value the data gives, and literals are).
module M(n: int) -> (y: int) {
    let k = 3;
    var s: int;
    for i in 0..k {
        s = s + i;
    }
    y = s;
}
