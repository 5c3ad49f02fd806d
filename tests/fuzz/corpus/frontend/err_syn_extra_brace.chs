// Syntax: a closing brace with nothing to close.
module M(x: real) -> (y: real) {
    y = x;
}
}
