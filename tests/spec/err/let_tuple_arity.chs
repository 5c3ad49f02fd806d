// 'let (...)' binds exactly the callee's outputs, in order.
module Two(x: real) -> (a: real, b: real) { a = x; b = -x; }
module One(x: real) -> (a: real) { a = x; }
module Use(x: real) -> (o: real) {
    let (p, q, r) = Two(x);
    let (s, t) = One(x);
    o = p + s;
}
