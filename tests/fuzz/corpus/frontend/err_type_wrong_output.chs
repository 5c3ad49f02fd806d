// Type: a real assigned to a bool output.
module M(x: real) -> (b: bool) {
    b = x * 2.0;
}
