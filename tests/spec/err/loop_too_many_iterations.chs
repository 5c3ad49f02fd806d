// Loops: a loop of 2^63 - 1 iterations (tests/fuzz/findings/hang-run-huge-loop.chs) would run or
// unroll practically forever; the trip count is limited to 1000000.
module Big() -> (y: int) {
    var s: int = 0;
    for i in 0..9223372036854775807 {
        s = s + 1;
    }
    y = s;
}
