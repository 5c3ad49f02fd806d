// A distribution is not a value.
module M() -> (y: real) {
    let d = Normal(0.0, 1.0);
    y = 1.0;
}
