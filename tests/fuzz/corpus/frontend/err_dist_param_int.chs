// Distribution parameters: Binomial's n is an int.
module M() -> (k: int) {
    k ~ Binomial(2.5, 0.5);
}
