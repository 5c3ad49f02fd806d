// Tasks: the label comes from a deterministic module (this one draws through a call).
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
module Noise() -> (n: real) {
    n ~ Normal(0.0, 1.0);
}
module Noisy(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading + Noise() <= speed * speed / 12.0 + 5.0;
}
task t {
  inputs: C;
  label: Noisy.brake;
  network: train();
}
