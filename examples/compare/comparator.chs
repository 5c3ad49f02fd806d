// A comparator: the smallest task with a known algorithm. Two tasks on one module: a network
// trained to imitate it, and the module compiled into an exact ReLU network (ground truth by
// construction: the compiled network is its own circuit, exact wherever |a - b| >= the margin).
//   chassis compare examples/compare/comparator.chs --task comparator
//   chassis compare examples/compare/comparator.chs --task comparator_compiled

module Comparator(a: real in [0, 10], b: real in [0, 10]) -> (le: bool) {
    le = a <= b;
}

/// Of two numbers, one is at most the other.
property total:
    forall a in [0, 10], b in [0, 10]: Comparator(a, b).le || Comparator(b, a).le;
/// Clearly separated inputs are compared right.
property clear_cases:
    forall a in [0, 4], b in [6, 10]: Comparator(a, b).le && !Comparator(b, a).le;

task comparator {
    inputs: Comparator;
    label: Comparator.le;
    network: train(widths = [8, 8], epochs = 40, seed = 1, samples = 4000, lr = 0.003);
    properties: total, clear_cases;
}

task comparator_compiled {
    inputs: Comparator;
    label: Comparator.le;
    network: compile(margin = 0.01);
    properties: total, clear_cases;
}
