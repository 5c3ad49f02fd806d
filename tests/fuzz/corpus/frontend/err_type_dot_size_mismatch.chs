// Type: dot of arrays of different lengths.
module M(a: real[2], b: real[3]) -> (y: real) {
    y = dot(a, b);
}
