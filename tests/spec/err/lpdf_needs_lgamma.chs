// Densities with a log-gamma term of something that is not a constant are not supported yet.
module Use(x: real in [0.1, 5], k: int in [0, 9]) -> (o: real) {
    let a = lpdf(Gamma(x, 1.0), 2.0);
    let b = lpdf(Beta(2.0, x), 0.5);
    let c = lpdf(StudentT(x, 0.0, 1.0), 0.5);
    let d = lpdf(Poisson(2.0), k);
    let e = lpdf(Binomial(k, 0.5), k);
    let f = lpdf(Gamma(2.0, x), x) + lpdf(Poisson(x), 3); // constants: supported
    o = f;
}

// The folded constants must be valid parameters.
module Bad(x: real in [0.1, 5]) -> (o: real) {
    let a = lpdf(StudentT(5 % 3 - 2, 0.0, 1.0), x) + lpdf(Gamma(-1.0, 1.0), x);
    let b = lpdf(Beta(0, 1), 0.5) + lpdf(StudentT(5 % 3, 0.0, 1.0), x);
    o = a + b;
}
