// Lexical: a real literal too large for float64.
module M() -> (y: real) {
    y = 1e999;
}
