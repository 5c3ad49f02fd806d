// Ranges: a bool input cannot have a range.
module M(b: bool in [0, 1]) -> (y: bool) {
    y = b;
}
