// Tasks: a box's lower bound may not exceed its upper bound.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
task t {
  inputs: C;
  label: C.brake;
  network: train();
  box: speed in [30, 5], reading in [-1.5, -2.5];
}
