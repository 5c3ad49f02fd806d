// posteriordb's hmm_example with K = 3 states: a hidden Markov chain whose row k of theta (a
// simplex) is the distribution of the next state from state k, Normal(mu[k], 1) emissions, mu
// ordered (this fixes the labels of the states), and the forward algorithm for the likelihood
// (the initial state uniform, as in hmm_example).
data {
  int<lower=1> N;
  int<lower=1> K;
  real y[N];
}
parameters {
  simplex[K] theta[K];
  ordered[K] mu;
}
model {
  mu ~ normal(0, 10);
  {
    real acc[K];
    real gamma[N, K];
    for (k in 1:K)
      gamma[1, k] = normal_lpdf(y[1] | mu[k], 1);
    for (t in 2:N) {
      for (k in 1:K) {
        for (j in 1:K)
          acc[j] = gamma[t - 1, j] + log(theta[j, k]) + normal_lpdf(y[t] | mu[k], 1);
        gamma[t, k] = log_sum_exp(acc);
      }
    }
    target += log_sum_exp(gamma[N]);
  }
}
