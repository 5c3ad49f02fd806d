// Tasks: integer options take integer literals.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
task t {
  inputs: C;
  label: C.brake;
  network: train(epochs = 60.0, widths = [16, 8.5], samples = 1e4);
}
