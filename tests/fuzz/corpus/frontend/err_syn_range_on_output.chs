// Syntax or typing: ranges are allowed on inputs only.
module M(x: real) -> (y: real in [0, 1]) {
    y = x;
}
