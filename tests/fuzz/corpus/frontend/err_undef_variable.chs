// Undefined: a variable that is not declared.
module M(x: real) -> (y: real) {
    y = x + z;
}
