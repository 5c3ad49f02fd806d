// Tasks: the inputs module must exist (a near miss is suggested).
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
module Other(x: real in [0, 1]) -> (y: real) { y = x; }
task t {
  inputs: Othre;
  label: C.brake;
  network: train();
}
task u {
  inputs: Nowhere;
  label: C.brake;
  network: train();
}
