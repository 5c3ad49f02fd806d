// Duplicate: an output named like an input.
module M(x: real) -> (x: real) {
    x = 1.0;
}
