// The longest array allowed (1000000 elements), read by one element.
module M(v: real[1000000]) -> (y: real) {
    y = v[999999];
}
