// Properties: P[M] needs a module without inputs.
module M(x: real in [0, 1]) -> (y: bool) {
    b ~ Bernoulli(x);
    y = b;
}
property p: P[M](y) <= 0.5;
