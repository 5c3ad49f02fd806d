// posteriordb's wells_dist100 (Gelman & Hill 2007, ch. 5): logistic regression of switching
// wells on the distance to the nearest safe well, in 100 m.
data {
  int<lower=0> N;
  int<lower=0, upper=1> switched[N];
  vector[N] dist100;
}
parameters {
  vector[2] beta;
}
model {
  switched ~ bernoulli_logit(beta[1] + beta[2] * dist100);
}
