// Properties over a module's distribution: always[M](e) over every execution in the support,
// P[M](e) and P[M](e | g) compared with every comparison, E[M](e) of real and int expressions.
// Inside always / P / E, names are M's inputs, outputs and top-level random choices.

module Dice() -> (a: int, b: int, total: int) {
    a ~ DiscreteUniform(1, 6);
    b ~ DiscreteUniform(1, 6);
    total = a + b;
}

module Noisy(x: real in [0, 10]) -> (y: real) {
    noise ~ Normal(0.0, 0.1);
    y = x + noise;
}

module Weather() -> (rain: bool, temp: real) {
    cold ~ Bernoulli(0.3);
    temp ~ Normal(if cold then 5.0 else 20.0, 3.0);
    rain ~ Bernoulli(if cold then 0.6 else 0.2);
}

property in_range: always[Dice](total >= 2 && total <= 12);
property noisy_bounded: always[Noisy](x >= 0.0);
property double_six: P[Dice](a == 6 && b == 6) <= 0.03;
property seven_likely: P[Dice](total == 7) >= 0.15;
property strict_lt: P[Dice](total > 11) < 0.05;
property strict_gt: P[Dice](total > 2) > 0.9;
property given_first: P[Dice](total == 12 | a == 6) >= 0.16;
property rain_given_cold: P[Weather](rain | cold) >= 0.5;
property mean_total: E[Dice](total) <= 7.01;
property mean_temp: E[Weather](temp) >= 10.0;
property mean_real: E[Dice](0.5 * a + 0.5 * b) <= 3.6;
