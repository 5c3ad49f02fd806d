// Type: the observed value must have the distribution's result type.
module M() -> (y: real) {
    observe(Normal(0.0, 1.0), true);
    y = 1.0;
}
