// chassis check --emit=ir (and run) on a 10^9-element array: checks clean, then lowering expands
// the elementwise exp element by element and runs out of time / memory.
module M(v: real[1000000000]) -> (y: real[1000000000]) {
    y = exp(v);
}
