// Type: an if condition must be bool.
module M(x: real) -> (y: real) {
    if x {
        y = 1.0;
    } else {
        y = 0.0;
    }
}
