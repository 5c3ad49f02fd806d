// Tasks: a box entry names an input of the inputs module.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
module R() -> (reading: real, speed: real) {
    reading ~ Uniform(0.0, 200.0);
    speed ~ Uniform(0.0, 40.0);
}
task t {
  inputs: C;
  label: C.brake;
  network: train();
  box: speed in [0, 10], distance in [0, 5];
}
task u {
  inputs: R;
  label: C.brake;
  network: train();
  box: speed in [0, 10];
}
