// Assignment: inputs are read only.
module M(x: real) -> (y: real) {
    x = 1.0;
    y = x;
}
