// Lexical: letters glued to a number.
module M() -> (y: int) {
    y = 12abc;
}
