// Tasks: option values in range.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
task t {
  inputs: C;
  label: C.brake;
  network: train(widths = [16, 0], epochs = 100001, seed = -1, samples = 9, lr = 0, batch = 0,
                 l1 = -0.5, weight_decay = -1, patience = -2);
}
task u {
  inputs: C;
  label: C.brake;
  network: train(widths = [1, 2, 3, 4, 5, 6, 7, 8, 9]);
}
task v {
  inputs: C;
  label: C.brake;
  network: compile(margin = 0);
}
