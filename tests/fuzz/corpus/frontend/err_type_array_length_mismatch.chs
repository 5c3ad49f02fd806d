// Type: an array literal of the wrong length for the output.
module M() -> (v: real[3]) {
    v = [1.0, 2.0];
}
