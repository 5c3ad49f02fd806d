// Every discrete distribution of spec/distributions.def, drawn into fresh random choices, into
// outputs and into declared locals, with int and real parameters (ints promote to real).

module Discrete(p: real in [0.1, 0.9], n: int in [1, 20]) -> (coin: bool, cat: int, total: int) {
    coin ~ Bernoulli(p);
    cat ~ Categorical([0.2, 0.3, 0.5]);
    b ~ Binomial(n, p);
    c ~ Poisson(3.5);
    d ~ DiscreteUniform(1, 6);
    g ~ Geometric(0.25);
    var e: int;
    e ~ Poisson(n);
    total = b + c + d + g + e;
}

module FromArray(w: real[4]) -> (k: int, flip: bool) {
    k ~ Categorical(w);
    flip ~ Bernoulli(1);
}
