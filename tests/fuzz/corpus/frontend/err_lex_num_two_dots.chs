// Lexical: a number with two dots.
module M() -> (y: real) {
    y = 1.2.3;
}
