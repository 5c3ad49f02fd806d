// Tasks: a module without inputs whose only output is the label gives no features.
module D() -> (d: real) {
    d = 1.0;
}
task t {
  inputs: D;
  label: D.d;
  network: train();
}
