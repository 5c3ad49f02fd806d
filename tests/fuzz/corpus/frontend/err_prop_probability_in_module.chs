// P[M](...) is only allowed in properties.
module Coin() -> (h: bool) {
    h ~ Bernoulli(0.5);
}
module M() -> (p: real) {
    p = P[Coin](h);
}
