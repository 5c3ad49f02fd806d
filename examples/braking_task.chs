// Training tasks on the braking controller: the symbolic module is the reference, a network is
// trained to imitate it, and the two can then be compared (accuracy here; `chassis verify` on a
// composition for proofs). Datasets are drawn by `chassis train` / `chassis eval`
// (tools/task_dataset.h): uniformly from a module's input box, or from a random scenario.
//
//   # a classifier imitating Controller on uniform samples of its input box (bool label)
//   chassis train examples/braking_task.chs --inputs Controller --label Controller.brake
//       --widths 16,16 --epochs 60 --samples 8000 --batch 64 --lr 0.003 --seed 1
//       -o braking_net.onnx --save-test test.csv
//   chassis eval braking_net.onnx --csv test.csv --label brake
//   chassis eval braking_net.onnx --task examples/braking_task.chs --inputs Controller
//       --label Controller.brake --seed 2
//   # three classes (an enum label), and a regression target (a real label)
//   chassis train examples/braking_task.chs --inputs Advisor --label Advisor.action -o adv.onnx
//   chassis train examples/braking_task.chs --inputs Controller --label Stopping.distance
//       -o stop.onnx
//   # inputs from a random scenario: the sensed distance and speed, labels by the controller
//   chassis train examples/braking_task.chs --inputs Scenario --features reading,speed
//       --label Controller.brake -o scenario_net.onnx

/// The controller of DESIGN.md's sketch: brake when the obstacle is within the stopping distance
/// plus a 5 m margin.
module Controller(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    let stopping = speed * speed / 12.0;
    brake = reading <= stopping + 5.0;
}

enum Action { Coast, Brake, Emergency }

/// A three-way advisory: Emergency inside the stopping distance, Brake within a 5 m margin of it,
/// Coast otherwise.
module Advisor(reading: real in [0, 200], speed: real in [0, 40]) -> (action: Action) {
    let stopping = speed * speed / 12.0;
    action = if reading <= stopping then Action.Emergency
             else (if reading <= stopping + 5.0 then Action.Brake else Action.Coast);
}

/// The stopping distance (m) at a speed (m/s) with a deceleration of 6 m/s^2: a regression target.
module Stopping(reading: real in [0, 200], speed: real in [0, 40]) -> (distance: real) {
    distance = speed * speed / 12.0;
}

/// A random scenario: the true distance and speed, and the distance as a noisy sensor reads it
/// (clamped to the sensor's span).
module Scenario() -> (distance: real, reading: real, speed: real) {
    distance ~ Uniform(0.0, 100.0);
    speed ~ Uniform(0.0, 30.0);
    noise ~ Normal(0.0, 0.5);
    reading = min(max(distance + noise, 0.0), 200.0);
}
