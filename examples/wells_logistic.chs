// Logistic regression, as posteriordb's wells_data-wells_dist100 (Gelman & Hill 2007, ch. 5; Stan
// program in bench/nuts/stan/wells_dist100.stan): does a household switch to a safe well, given
// the distance to it in 100 m?
//
//   switched[i] ~ Bernoulli(sigmoid(beta[0] + beta[1] * dist100[i])),   beta ~ Flat()
//
// Stan's `vector[2] beta;` with no sampling statement is a flat prior on both coefficients;
// `bernoulli_logit(x)` is Bernoulli(sigmoid(x)). switched is a bool array in the data file (Stan
// reads the same values as 0/1).
// Data: simulated (posteriordb's wells data is not available offline) by bench/nuts/simulate_data
// with a fixed seed; reference posterior: Stan's (bench/nuts/make_reference), in
// tests/data/posteriordb/wells_simulated-wells_dist100.
//   chassis infer examples/wells_logistic.chs WellsDist100 --data examples/wells_logistic.json --method nuts

module WellsDist100(N: int, switched: bool[N], dist100: real[N]) -> (beta: real[2]) {
    beta ~ Flat();
    var p: real[N];
    for i in 0..N {
        p[i] = sigmoid(beta[0] + beta[1] * dist100[i]);
    }
    observe(Bernoulli(p), switched);
}
