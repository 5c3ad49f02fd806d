// Properties: P[M](e) cmp c must be the whole property (not an operand of && or arithmetic).
// The checker reports it, with the message lowering gives (it used to pass `check`).
module N() -> (a: bool, b: bool) {
    a ~ Bernoulli(0.5);
    b ~ Bernoulli(0.2);
}
property p: P[N](a) <= 0.5 && P[N](b) <= 0.3;
