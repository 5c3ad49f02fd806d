// Tasks: the label names an existing module and one of its outputs.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
task t {
  inputs: C;
  label: Controller.brake;
  network: train();
}
task u {
  inputs: C;
  label: C.brakes;
  network: train();
}
