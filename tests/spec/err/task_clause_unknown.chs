// Tasks: the clauses are inputs, label, network, box and properties; parsing goes on after a bad task.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
task t {
  inputs: C;
  labels: C.brake;
  network: train();
}
task u {
  inputs: C;
  label: C.brake;
  network: train()
}
