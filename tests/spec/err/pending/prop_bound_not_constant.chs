// Properties: P[M](e) is compared with a constant, not with another probability.
// Today `check` accepts it and only lowering rejects it.
module N() -> (a: bool, b: bool) {
    a ~ Bernoulli(0.5);
    b ~ Bernoulli(0.2);
}
property p: P[N](a) <= P[N](b);
