// Lexical: a block comment that is never closed (reported at its start).
module M() -> (y: real) {
    y = 1.0; /* the rest of the file
    is swallowed
}
