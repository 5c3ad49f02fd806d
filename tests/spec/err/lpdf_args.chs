// lpdf(D(params), x): a distribution, then a value of its draw type.
module Use(x: real, k: int) -> (o: real) {
    let a = lpdf(Normal(0.0, 1.0));
    let b = lpdf(x, 1.0);
    let c = lpdf(Normal(0.0, 1.0), true);
    let d = lpdf(Bernoulli(0.5), 1);
    let e = lpdf(Foo(1.0), x);
    let f = lpdf(Normal(0.0), x);
    let g = lpdf(Poisson(2.0), x);
    o = x;
}
