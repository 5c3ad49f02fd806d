// The right side of 'let (...)' must be a call of a module or network.
module Use(x: real, v: real[2]) -> (o: real) {
    let (a, b) = v;
    let (c, d) = max(x, 1.0);
    let (e, f) = Normal(0.0, 1.0);
    let (g, h) = Missing(x);
    o = x;
}
