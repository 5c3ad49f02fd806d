// Tasks share the global namespace: a task named like a module.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
task C {
  inputs: C;
  label: C.brake;
  network: train();
}
