// A small comparator task for the compare tests: a tiny network, trained fast.
module Comparator(a: real in [0, 10], b: real in [0, 10]) -> (le: bool) {
    le = a <= b;
}

property clear_cases:
    forall a in [0, 4], b in [6, 10]: Comparator(a, b).le;
property never_le_when_far_above:
    forall a in [8, 10], b in [0, 2]: !Comparator(a, b).le;

task small {
    inputs: Comparator;
    label: Comparator.le;
    network: train(widths = [6], epochs = 30, seed = 3, samples = 1500, lr = 0.01);
    properties: clear_cases, never_le_when_far_above;
}

task exact {
    inputs: Comparator;
    label: Comparator.le;
    network: compile(margin = 0.01);
    properties: clear_cases;
}
