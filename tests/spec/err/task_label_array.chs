// Tasks: the label must be a scalar.
module M(x: real in [0, 1]) -> (ys: real[2]) {
    ys = [x, 2.0 * x];
}
task t {
  inputs: M;
  label: M.ys;
  network: train();
}
