// Ranges: an int input's bounds are integers.
module M(n: int in [0.5, 2]) -> (y: int) {
    y = n;
}
