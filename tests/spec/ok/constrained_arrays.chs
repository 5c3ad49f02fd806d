// Stan's constrained arrays with flat priors: simplex, ordered and positive arrays, drawn whole
// into outputs and locals.
module Mixture(y: real[4]) -> (w: real[3], mu: real[3]) {
    w ~ Flat(simplex);
    mu ~ Flat(ordered);
    var sigma: real[3];
    sigma ~ Flat(positive);
    for i in 0..4 {
        observe(Normal(w[0] * mu[0] + w[1] * mu[1] + w[2] * mu[2], sigma[0]), y[i]);
    }
}
