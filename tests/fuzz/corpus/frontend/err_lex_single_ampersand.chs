// Lexical: a lone '&' (the operator is '&&').
module M(a: bool, b: bool) -> (y: bool) {
    y = a & b;
}
