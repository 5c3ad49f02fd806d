// Stan's 'target += e' is factor(e); there are no compound assignments.
module U(y: real, v: real[2]) -> (o: real) {
    target += lpdf(Normal(0.0, 1.0), y);
    var s: real = 0.0;
    s += y;
    s *= 2.0;
    v[0] -= 1.0;
    o = s;
}
