// Tasks: an input appears in the box at most once.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
task t {
  inputs: C;
  label: C.brake;
  network: train();
  box: speed in [5, 10], speed in [10, 20];
}
