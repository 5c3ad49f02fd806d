// The braking example of DESIGN.md ("The language, a sketch"), verbatim: a noisy sensor, a
// symbolic controller, a policy network (braking_policy.onnx, made by
// scripts/make-braking-policy.py) and a probabilistic scenario, with four properties.
//   chassis check examples/braking.chs
//   chassis run examples/braking.chs Braking --seed 1
//   chassis run examples/braking.chs Controller --input reading=3 --input speed=20
//   chassis verify examples/braking.chs

/// A noisy range sensor.
module Sensor(distance: real) -> (reading: real) {
    noise ~ Normal(0.0, 0.5);
    reading = distance + noise;
}

module Controller(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    let stopping = speed * speed / 12.0;
    brake = reading <= stopping + 5.0;
}

network Policy(x: real[2]) -> (y: real[2]) = onnx("braking_policy.onnx");

module Braking() -> (distance: real, speed: real, brake: bool) {
    distance ~ Uniform(0.0, 100.0);
    speed ~ Uniform(0.0, 30.0);
    brake = Controller(Sensor(distance).reading, speed).brake;
}

property brakes_when_close:
    forall reading in [0, 10], speed in [5, 30]: Controller(reading, speed).brake;
property monotone_in_distance:
    forall r1 in [0, 200], r2 in [0, 200], s in [0, 40]:
        r1 <= r2 && Controller(r2, s).brake => Controller(r1, s).brake;
property rarely_late:
    P[Braking](distance < speed * speed / 12.0 && !brake) <= 0.01;
property never_late_when_slow:
    always[Braking](speed > 10 || brake || distance > 5);
