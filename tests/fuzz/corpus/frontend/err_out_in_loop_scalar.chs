// Outputs: a scalar output assigned inside a loop.
module M(x: real) -> (y: real) {
    for i in 0..3 {
        y = x;
    }
}
