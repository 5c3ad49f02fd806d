// Type: a bool is not a number.
module M(b: bool) -> (y: real) {
    y = b + 1.0;
}
