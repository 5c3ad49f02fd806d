// Properties: P[M](e) is compared with a constant, not with another probability.
// The checker reports it, with the message lowering gives (it used to pass `check`).
module N() -> (a: bool, b: bool) {
    a ~ Bernoulli(0.5);
    b ~ Bernoulli(0.2);
}
property p: P[N](a) <= P[N](b);
