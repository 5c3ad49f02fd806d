// 'let (...)': each name once, and each gets the type of its output.
module Two(x: real) -> (a: real, b: real[2, 2]) { a = x; b = [[x, x], [x, x]]; }
module Use(x: real) -> (o: real) {
    let (p, p) = Two(x);
    let (q, m) = Two(x);
    let z: bool = q;
    o = m[0] + q;
}
