// Type: condition takes a bool.
module M(x: real) -> (y: real) {
    condition(x);
    y = x;
}
