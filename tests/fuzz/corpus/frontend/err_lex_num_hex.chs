// Lexical: hexadecimal literals are not part of the language.
module M() -> (y: int) {
    y = 0x1F;
}
