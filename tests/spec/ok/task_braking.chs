// Tasks: what `chassis compare` compares (spec/LANGUAGE.md, "Tasks"). Every network form.

/// Brake when the obstacle is within the stopping distance plus a 5 m margin.
module Controller(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    let stopping = speed * speed / 12.0;
    brake = reading <= stopping + 5.0;
}

enum Action { Coast, Brake, Emergency }

module Advisor(reading: real in [0, 200], speed: real in [0, 40]) -> (action: Action) {
    let stopping = speed * speed / 12.0;
    action = if reading <= stopping then Action.Emergency
             else (if reading <= stopping + 5.0 then Action.Brake else Action.Coast);
}

/// A random scenario: its runs give the inputs (the outputs reading and speed bind by name).
module Scenario() -> (distance: real, reading: real, speed: real) {
    distance ~ Uniform(0.0, 100.0);
    speed ~ Uniform(0.0, 30.0);
    noise ~ Normal(0.0, 0.5);
    reading = min(max(distance + noise, 0.0), 200.0);
}

property brakes_when_close: always[Controller](reading <= 5.0 => brake);
property monotone_in_distance:
    forall r in [0, 200], s in [0, 40]: Controller(r, s) => Controller(r * 0.5, s);

/// Trained from the reference, on a narrowed box; clauses in any order.
task braking {
  properties: brakes_when_close, monotone_in_distance;
  inputs: Controller;
  label: Controller.brake;
  box: speed in [5, 30], reading in [0, 50.5];
  network: train(widths = [16, 16], epochs = 60, seed = 1, samples = 8000, lr = 0.003,
                 batch = 64, l1 = 0, weight_decay = 1e-4, patience = 5);
}

/// Loaded networks: paths relative to this file's directory.
task braking_onnx {
  inputs: Controller;
  label: Controller.brake;
  network: onnx("braking_policy.onnx");
}

task advisor_nnet {
  inputs: Advisor;
  label: Advisor.action;
  network: nnet("nets/advisor.nnet");
}

/// The reference compiled to an exact ReLU network; inputs from a random module.
task scenario_compiled {
  inputs: Scenario;
  label: Controller.brake;
  network: compile(margin = 0.001);
}

/// Bool and enum inputs need no range; an array of bounded reals is bounded. Defaults
/// everywhere; an int label (a regression target).
module Gear(speeds: real[3] in [0, 40], sport: bool, mode: Action, n: int) -> (gear: int) {
    let top = if sport then 6 else 5;
    gear = if mode == Action.Emergency then 1 else min(top, n);
}

task gear {
  inputs: Gear;
  label: Gear.gear;
  network: train();
  box: n in [1, 6];
}
