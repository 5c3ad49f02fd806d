// Outputs: assigned on only one branch of an if.
module M(x: real) -> (y: real) {
    if x > 0.0 {
        y = x;
    }
}
