// Duplicate: two inputs with one name.
module M(x: real, x: int) -> (y: real) {
    y = 1.0;
}
