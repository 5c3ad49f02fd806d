// Loops: constant folding of a bound overflows int64.
module M() -> (y: int) {
    var s: int;
    for i in 0..9223372036854775807 + 1 {
        s = s + 1;
    }
    y = s;
}
