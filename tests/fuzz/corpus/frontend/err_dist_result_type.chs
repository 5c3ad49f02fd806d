// Distribution result: a Bernoulli draw is a bool, not a real.
module M() -> (y: real) {
    y ~ Bernoulli(0.5);
}
