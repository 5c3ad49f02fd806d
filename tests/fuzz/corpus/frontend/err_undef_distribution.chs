// Undefined: a distribution that is not in the table (Normal is the Gaussian).
module M() -> (y: real) {
    y ~ Gaussian(0.0, 1.0);
}
