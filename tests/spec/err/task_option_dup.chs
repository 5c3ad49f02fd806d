// Tasks: an option is given at most once.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
task t {
  inputs: C;
  label: C.brake;
  network: train(epochs = 10, seed = 2, epochs = 20);
}
