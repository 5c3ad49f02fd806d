// Type: a constant index past the end of the array.
module M(v: real[3]) -> (y: real) {
    y = v[3];
}
