// Outputs: an array output assigned element-wise outside a loop over its length.
module M(x: real) -> (v: real[2]) {
    v[0] = x;
    v[1] = x;
}
