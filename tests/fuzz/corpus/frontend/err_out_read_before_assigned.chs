// Outputs: read before it is assigned.
module M(x: real) -> (y: real, z: real) {
    z = y + 1.0;
    y = x;
}
