// The probabilistic statements: observe (of every result type), condition, factor, and assert
// with and without a message, in both spellings.

module Posterior(obs: real, count: int in [0, 100]) -> (rate: real, on: bool) {
    rate ~ Gamma(2.0, 1.0);
    observe(Poisson(rate), count);
    observe(Normal(rate, 1.0), obs);
    on ~ Bernoulli(0.5);
    observe(Bernoulli(0.9), on);
    condition(rate < 50.0);
    factor(-0.5 * rate * rate);
    factor(-1);
    assert rate >= 0.0;
    assert rate >= 0.0 : "a Gamma draw is non-negative";
    assert(rate < 50.0);
}
