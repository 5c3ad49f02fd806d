// Undefined: a type name that is neither a base type nor an enum.
module M(x: vector) -> (y: real) {
    y = 1.0;
}
