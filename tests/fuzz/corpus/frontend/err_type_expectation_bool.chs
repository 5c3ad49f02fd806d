// Properties: E[M] takes a number, not a bool.
module Coin() -> (h: bool) {
    h ~ Bernoulli(0.5);
}
property p: E[Coin](h) <= 0.5;
