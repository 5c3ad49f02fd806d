// Stan's density functions have another spelling here: lpdf(D(...), x).
module Use(y: real, k: int, mu: real) -> (o: real) {
    let a = normal_lpdf(y, mu, 1.0);
    let b = poisson_lpmf(k, 2.0);
    let c = student_t_lpdf(y, 3.0, mu, 1.0);
    let d = wibble_lpdf(y, 1.0);
    o = a + b + c + d;
}
