// Undefined: a function that is not a builtin (there is no cos).
module M(x: real) -> (y: real) {
    y = cos(x);
}
