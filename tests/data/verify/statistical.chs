// A model that only --statistical can estimate: a Poisson choice has an infinite support, so
// neither exact inference nor the cell method applies, and the properties stay unknown without
// --statistical. Exact values: P(k <= 2) = 8.5 e^-3 = 0.42319...;
// P(k <= 2 | k >= 1) = 7.5 e^-3 / (1 - e^-3) = 0.39267...
module Counts() -> (k: int) {
    k ~ Poisson(3.0);
}

property few: P[Counts](k <= 2) <= 0.5;
property many: P[Counts](k <= 2) >= 0.5;
property given_one: P[Counts](k <= 2 | k >= 1) <= 0.45;
