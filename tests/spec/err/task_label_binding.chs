// Tasks: the label module's inputs bind to the features by name or by count.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
module Three(a: real in [0, 1], b: real in [0, 1], c: real in [0, 1]) -> (y: real) {
    y = a + b + c;
}
task t {
  inputs: C;
  label: Three.y;
  network: train();
}
