// Duplicate: two modules with one name.
module M(x: real) -> (y: real) {
    y = x;
}
module M(x: real) -> (y: real) {
    y = -x;
}
