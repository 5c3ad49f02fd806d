// A hidden Markov model, as posteriordb's hmm_example (Stan program in
// bench/nuts/stan/hmm_example.stan) with K = 3 states: a hidden chain of states z[t] whose
// transitions from state j follow row j of theta, and observations y[t] ~ Normal(mu[z[t]], 1).
// The states are summed out by the forward algorithm: gamma[k] is the log density of y[0..t]
// with z[t] = k,
//
//   gamma_0[k] = log N(y[0] | mu[k], 1)      (the first state uniform, up to a constant)
//   gamma_t[k] = log_sum_exp_j(gamma_{t-1}[j] + log theta[j, k]) + log N(y[t] | mu[k], 1)
//
// and the likelihood is log_sum_exp(gamma_{N-1}). Stan's parameters are
// `array[K] simplex[K] theta; ordered[K] mu;`: each row of theta constrained to the simplex
// (theta ~ Flat(simplex) into a matrix: a flat prior on every row's simplex) and mu ordered, which
// fixes the labels of the states (without it, permuting the states gives the same likelihood and
// the posterior has K! copies of every mode). mu ~ normal(0, 10) as in Stan.
// Data: simulated (posteriordb's own hmm_example data is not available offline) by
// bench/nuts/simulate_data with a fixed seed; reference posterior: Stan's
// (bench/nuts/make_reference), in tests/data/posteriordb/hmm_simulated-hmm_example.
//   chassis infer examples/hmm.chs Hmm --data examples/hmm.json --method nuts

module Hmm(N: int, K: int, y: real[N]) -> (theta: real[K, K], mu: real[K]) {
    theta ~ Flat(simplex);
    mu ~ Flat(ordered);
    for k in 0..K {
        factor(lpdf(Normal(0.0, 10.0), mu[k]));
    }
    var logTheta: real[K, K];
    for j in 0..K {
        for k in 0..K {
            logTheta[j, k] = log(theta[j, k]);
        }
    }
    var gamma: real[K];
    for k in 0..K {
        gamma[k] = lpdf(Normal(mu[k], 1.0), y[0]);
    }
    for t in 1..N {
        var next: real[K];
        for k in 0..K {
            var acc: real[K];
            for j in 0..K {
                acc[j] = gamma[j] + logTheta[j, k];
            }
            next[k] = log_sum_exp(acc) + lpdf(Normal(mu[k], 1.0), y[t]);
        }
        gamma = next;
    }
    factor(log_sum_exp(gamma));
}
