// Syntax: array literals are non-empty.
module M() -> (y: real) {
    let a = [];
    y = 1.0;
}
