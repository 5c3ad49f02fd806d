// Quantifiers belong to properties only.
module M(x: real) -> (y: bool) {
    y = forall z in [0, 1]: z >= 0.0;
}
