// chassis run hang-run-huge-loop.chs Big: a loop of 2^63 - 1 iterations is accepted by check and
// runs (practically) forever; the verifier, which unrolls loops, would not terminate either.
module Big() -> (y: int) {
    var s: int;
    for i in 0..9223372036854775807 {
        s = s + 1;
    }
    y = s;
}
