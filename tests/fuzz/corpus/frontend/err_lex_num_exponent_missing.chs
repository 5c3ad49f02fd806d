// Lexical: an exponent marker without digits.
module M() -> (y: real) {
    y = 1e;
}
