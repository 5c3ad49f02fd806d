// A property Z3 takes long over (minutes): eight steps of the logistic map x -> 3.9 x (1 - x)
// make a degree-256 polynomial whose maximum on [0, 1] is to be compared with 0.99 (nonlinear
// real arithmetic). Between two quick properties, so that a run stopped during it has rows
// decided before (`quick`) and after (`later`). Used by tests/cli/run_limits.sh.

module Iterate(x: real in [0, 1]) -> (y: real) {
    var v: real = x;
    for i in 0..8 {
        v = 3.9 * v * (1.0 - v);
    }
    y = v;
}

property quick:
    forall x in [0, 1]: x * x <= 1;
property stays_below:
    forall x in [0, 1]: Iterate(x).y <= 0.99;
property later:
    forall x in [0, 2]: x <= 2;
