// Duplicate: two outputs with one name.
module M(x: real) -> (y: real, y: bool) {
    y = x;
}
