// Arity: max takes two arguments.
module M(x: real) -> (y: real) {
    y = max(x);
}
