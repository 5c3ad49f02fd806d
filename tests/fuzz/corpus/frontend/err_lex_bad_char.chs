// Lexical: a character that starts no token.
module M(a: real, b: real) -> (y: real) {
    y = a @ b;
}
