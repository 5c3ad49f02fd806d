// Syntax: a module body that is never closed.
module M(x: real) -> (y: real) {
    y = x;
