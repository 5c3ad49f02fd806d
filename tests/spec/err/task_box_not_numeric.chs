// Tasks: only int and real inputs can be narrowed.
enum Mode { Eco, Sport }
module M(x: real in [0, 1], on: bool, mode: Mode) -> (y: real) {
    y = if on && mode == Mode.Sport then x else 0.0;
}
task t {
  inputs: M;
  label: M.y;
  network: train();
  box: on in [0, 1], mode in [0, 1];
}
