// Syntax: a parameter needs a type.
module M(x) -> (y: real) {
    y = 1.0;
}
