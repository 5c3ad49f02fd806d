// Lexical: an integer literal that does not fit in 64 bits.
module M() -> (y: int) {
    y = 99999999999999999999;
}
