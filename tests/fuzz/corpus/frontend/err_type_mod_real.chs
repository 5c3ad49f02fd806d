// Type: % is on ints.
module M(x: real) -> (y: real) {
    y = x % 2;
}
