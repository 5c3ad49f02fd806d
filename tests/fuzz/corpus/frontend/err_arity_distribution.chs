// Arity: Normal takes two parameters.
module M() -> (y: real) {
    y ~ Normal(0.0);
}
