// Type: factor takes a real log-weight.
module M(b: bool) -> (y: real) {
    factor(b);
    y = 1.0;
}
