// Assignment: let bindings are immutable.
module M(x: real) -> (y: real) {
    let a = x;
    a = 2.0;
    y = a;
}
