// Sampling: x[i] ~ D needs an array target.
module M() -> (y: real) {
    y = 0.0;
    var s: real;
    s[0] ~ Normal(0.0, 1.0);
}
