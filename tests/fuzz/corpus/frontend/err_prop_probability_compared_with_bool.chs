// Properties: a probability is a real, not a bool.
module Coin() -> (h: bool) {
    h ~ Bernoulli(0.5);
}
property p: P[Coin](h) && true;
