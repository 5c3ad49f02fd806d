// Tasks: the inputs must be a module, not a network, enum or property.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
network N(x: real) -> (y: real) = onnx("n.onnx");
enum Mode { A, B }
property p: always[C](brake || !brake);
task t {
  inputs: N;
  label: C.brake;
  network: train();
}
task u {
  inputs: Mode;
  label: p.x;
  network: train();
}
