// Tasks: the box of an int input must contain an integer.
module M(n: int in [0, 10]) -> (y: int) {
    y = n * 2;
}
task t {
  inputs: M;
  label: M.y;
  network: train();
  box: n in [2.25, 2.75];
}
