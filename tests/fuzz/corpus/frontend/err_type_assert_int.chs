// Type: assert takes a bool.
module M(n: int) -> (y: int) {
    assert n : "n must be non-zero";
    y = n;
}
