// Distribution parameters: Categorical takes a real array.
module M() -> (k: int) {
    k ~ Categorical(0.5);
}
