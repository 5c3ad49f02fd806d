// Tasks: an unknown option lists the accepted ones.
module C(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    brake = reading <= speed * speed / 12.0 + 5.0;
}
task t {
  inputs: C;
  label: C.brake;
  network: train(widths = [8], epoch = 10);
}
task u {
  inputs: C;
  label: C.brake;
  network: compile(margin = 0.1, widths = [8]);
}
