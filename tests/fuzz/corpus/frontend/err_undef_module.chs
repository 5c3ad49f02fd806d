// Undefined: a call of a module that does not exist.
module M(x: real) -> (y: real) {
    y = Missing(x).out;
}
