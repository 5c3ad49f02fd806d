// k-sparse parity: the output is the parity of 3 of 6 bits (x1, x3, x4); the other bits are
// irrelevant. A task where a circuit should be small and exact: 64 inputs in all, so faithfulness
// and the leak are decided by enumerating the domain, not over a real relaxation.
//   chassis compare examples/compare/parity.chs --task parity
//   chassis compare examples/compare/parity.chs --task parity_compiled

module Xor(a: bool, b: bool) -> (y: bool) {
    y = (a && !b) || (!a && b);
}

module Parity(x0: bool, x1: bool, x2: bool, x3: bool, x4: bool, x5: bool) -> (odd: bool) {
    odd = Xor(Xor(x1, x3).y, x4).y;
}

/// The irrelevant bits do not matter: changing x0, x2 and x5 never changes the answer.
property ignores_irrelevant_bits:
    forall x0 in bool, x1 in bool, x2 in bool, x3 in bool, x4 in bool, x5 in bool,
           z0 in bool, z2 in bool, z5 in bool:
        Parity(x0, x1, x2, x3, x4, x5).odd == Parity(z0, x1, z2, x3, x4, z5).odd;
/// Flipping a relevant bit flips the answer.
property flips_with_x1:
    forall x0 in bool, x1 in bool, x2 in bool, x3 in bool, x4 in bool, x5 in bool:
        Parity(x0, x1, x2, x3, x4, x5).odd != Parity(x0, !x1, x2, x3, x4, x5).odd;

task parity {
    inputs: Parity;
    label: Parity.odd;
    network: train(widths = [16, 16], epochs = 60, seed = 1, samples = 4000, lr = 0.005);
    properties: ignores_irrelevant_bits, flips_with_x1;
}

task parity_compiled {
    inputs: Parity;
    label: Parity.odd;
    network: compile(margin = 0.1);
    properties: ignores_irrelevant_bits, flips_with_x1;
}
