// Type: argmax takes an array.
module M(x: real) -> (k: int) {
    k = argmax(x);
}
