// Loops: the trip count of the widest int64 range does not fit in int64 (counted in 128 bits).
module Big() -> (y: int) {
    var s: int = 0;
    for i in -9223372036854775807 - 1..9223372036854775807 {
        s = s + 1;
    }
    y = s;
}
