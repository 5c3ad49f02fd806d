// Stan's conditional bar inside a call is a syntax error with a hint to write lpdf(D(...), x).
module Bar(y: real) -> (o: real) {
    o = normal_lpdf(y | 0.0, 1.0);
}
