// Assignment: a loop index is read only.
module M() -> (y: int) {
    var s: int;
    for i in 0..3 {
        i = 2;
        s = s + i;
    }
    y = s;
}
