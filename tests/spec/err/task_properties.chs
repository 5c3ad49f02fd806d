// Tasks: properties named exist, each listed once.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
property closes: always[C](reading <= 5.0 => brake);
task t {
  inputs: C;
  label: C.brake;
  network: train();
  properties: closes, closez, C, closes;
}
