// Loops: nested loops count as the product of their trip counts: 2000 * 1000 > 1000000.
// A loop of exactly 1000000 iterations is allowed.
module Nested() -> (y: int) {
    var s: int = 0;
    for i in 0..1000000 {
        s = s + 1;
    }
    for i in 0..2000 {
        for j in 0..1000 {
            s = s + j;
        }
    }
    y = s;
}
