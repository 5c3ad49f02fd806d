// Tasks: inputs drawn from a module that conditions (here through a call) would ignore its weight.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
module Obs() -> (x: real) {
    x ~ Normal(0.0, 1.0);
    condition(x > 0.0);
}
module Scene() -> (reading: real, speed: real) {
    reading = Obs();
    speed ~ Uniform(0.0, 30.0);
}
task t {
  inputs: Scene;
  label: C.brake;
  network: train();
}
