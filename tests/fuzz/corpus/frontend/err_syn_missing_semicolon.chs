// Syntax: a statement without its semicolon.
module M(x: real) -> (y: real) {
    let a = x * 2.0
    y = a;
}
