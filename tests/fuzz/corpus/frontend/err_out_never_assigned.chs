// Outputs: one of the outputs is never assigned.
module M(x: real) -> (y: real, z: real) {
    y = x;
}
