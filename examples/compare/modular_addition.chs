// Modular addition mod 7, the task of the grokking and circuit literature: 49 inputs, 7 classes.
// Trained, and compiled into an exact ReLU network (a + b - 7 [a + b >= 7], then one step per
// residue): the compiled network's circuit is known by construction.
//   chassis compare examples/compare/modular_addition.chs --task modular_addition
//   chassis compare examples/compare/modular_addition.chs --task modular_addition_compiled

enum Residue { r0, r1, r2, r3, r4, r5, r6 }

module ModAdd(a: int in [0, 6], b: int in [0, 6]) -> (sum: Residue) {
    let t = a + b;
    let s = if t >= 7 then t - 7 else t;
    sum = if s <= 0 then Residue.r0
          else (if s <= 1 then Residue.r1
          else (if s <= 2 then Residue.r2
          else (if s <= 3 then Residue.r3
          else (if s <= 4 then Residue.r4
          else (if s <= 5 then Residue.r5 else Residue.r6)))));
}

task modular_addition {
    inputs: ModAdd;
    label: ModAdd.sum;
    network: train(widths = [64, 64], epochs = 300, seed = 1, samples = 4000, lr = 0.003);
}

task modular_addition_compiled {
    inputs: ModAdd;
    label: ModAdd.sum;
    network: compile(margin = 0.5);
}
