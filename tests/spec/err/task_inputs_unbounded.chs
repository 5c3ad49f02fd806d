// Tasks: every int / real input of the inputs module needs a range or a box entry.
module M(a: real, b: real in [0, 1], n: int, xs: real[3], ys: real[2] in [0, 1], c: bool) -> (y: real) {
    y = a + b + sum(xs) + sum(ys);
}
task t {
  inputs: M;
  label: M.y;
  network: train();
  box: n in [0, 10];
}
