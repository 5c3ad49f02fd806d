// Syntax: a reserved word used as a name.
module M(x: real) -> (y: real) {
    let for = x;
    y = x;
}
