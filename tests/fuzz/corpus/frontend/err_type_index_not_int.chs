// Type: an array index must be an int.
module M(v: real[3]) -> (y: real) {
    y = v[1.0];
}
