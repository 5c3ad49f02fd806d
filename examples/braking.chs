// The braking example of DESIGN.md ("The language, a sketch"): a noisy sensor, a symbolic
// controller, a policy network (braking_policy.onnx, made by scripts/make-braking-policy.py) and
// a probabilistic scenario, with four properties.
//   chassis check examples/braking.chs
//   chassis run examples/braking.chs Braking --seed 1
//   chassis run examples/braking.chs Controller --input reading=3 --input speed=20
//   chassis verify examples/braking.chs
//
// Two changes from the sketch. The sensor clips its reading to its measuring range [0, 200]:
// unclipped, a distance near 0 plus negative noise gives a negative reading, outside the
// Controller's declared input range, and such a run of Braking fails at run time. And the controller's safety margin is 10 m, not 5 m. With 5 m,
// `brakes_when_close` is false (reading = 10, speed = 5: 10 > 25/12 + 5 = 7.08), so the
// sketch's own controller does not brake everywhere its property demands; the 10 m margin makes
// the controller meet it (stopping + 10 >= 25/12 + 10 > 10 >= reading). The 5 m controller is kept
// as the seeded-bug copy, tests/data/verify/braking_bug.chs, where `brakes_when_close` is
// violated at a counterexample replayed in float64.
//
// Expected verdicts (worked out by hand, for the reals; `chassis verify` exits 1):
//   brakes_when_close     holds: stopping + 10 > 10 >= reading on the whole box
//   monotone_in_distance  holds: `reading <= c` is monotone in reading
//   rarely_late           holds, by a certified interval: late braking (distance < stopping and
//                         no brake) needs noise > 10 m = 20 sigma, so the interval's upper end is
//                         tiny (the Normal's tails beyond 12 sigma, about 1e-32, stay undecided,
//                         plus cells where reading leaves the Controller's input range [0, 200])
//   never_late_when_slow  violated, with a replayed trace: `always` quantifies over every trace
//                         in the support, and the Normal noise has unbounded support, so a large
//                         noise (distance <= 5, speed <= 10, noise > 10 + speed^2/12 - distance)
//                         makes reading exceed the braking threshold. Its probability is
//                         below 1e-20 (that is what rarely_late bounds), but `always` is not a
//                         probability statement; the violation is the correct verdict.

/// A noisy range sensor, measuring 0 to 200 m: a reading outside its range is clipped to it.
module Sensor(distance: real) -> (reading: real) {
    noise ~ Normal(0.0, 0.5);
    reading = min(200.0, max(0.0, distance + noise));
}

module Controller(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    let stopping = speed * speed / 12.0;
    brake = reading <= stopping + 10.0;
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
