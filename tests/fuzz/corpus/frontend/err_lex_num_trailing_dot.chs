// Lexical: a real literal needs digits after the dot.
module M() -> (y: real) {
    y = 1.;
}
