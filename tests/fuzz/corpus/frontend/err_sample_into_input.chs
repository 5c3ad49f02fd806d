// Sampling: an input cannot be the target of ~.
module M(x: real) -> (y: real) {
    x ~ Normal(0.0, 1.0);
    y = x;
}
