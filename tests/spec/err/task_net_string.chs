// Tasks: onnx(...) and nnet(...) take a file name string.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
task t {
  inputs: C;
  label: C.brake;
  network: onnx(policy);
}
