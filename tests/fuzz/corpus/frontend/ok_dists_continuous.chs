// Every continuous distribution of spec/distributions.def, with literal, int and expression
// parameters.

module Continuous(mu: real in [-5, 5]) -> (s: real) {
    a ~ Uniform(0.0, 1.0);
    b ~ Normal(mu, 2.0);
    c ~ HalfNormal(1.5);
    d ~ LogNormal(0, 0.5);
    e ~ Cauchy(mu, 1);
    f ~ HalfCauchy(5.0);
    g ~ StudentT(3.0, mu, 1.0);
    h ~ Exponential(2);
    i ~ Gamma(2.0, 0.5);
    j ~ Beta(2.0, 3.0);
    s = a + b + c + d + e + f + g + h + i + j;
}

module Output() -> (x: real) {
    x ~ Normal(0.0, 1.0);
}
