// Lexical: a non-ASCII byte outside comments and strings.
module M(x: real) -> (y: real) {
    y = x × 2.0;
}
