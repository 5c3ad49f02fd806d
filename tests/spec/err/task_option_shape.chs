// Tasks: lists where a number is expected, and a number where a list is.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
task t {
  inputs: C;
  label: C.brake;
  network: train(widths = 16, epochs = [10, 20], lr = [0.1]);
}
