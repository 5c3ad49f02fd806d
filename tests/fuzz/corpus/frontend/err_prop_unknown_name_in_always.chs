// Properties: names inside always[M] are M's inputs, outputs and top-level random choices.
module M() -> (y: real) {
    y ~ Normal(0.0, 1.0);
}
property p: always[M](z > 0.0);
