// Types: arrays of 10^9 elements (tests/fuzz/findings/hang-lower-huge-array.chs) would make
// lowering and the back ends run out of time and memory; the length is limited to 1000000.
module M(v: real[1000000000]) -> (y: real[1000000000]) {
    y = exp(v);
}
