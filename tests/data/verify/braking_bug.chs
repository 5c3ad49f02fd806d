// A copy of examples/braking.chs with a seeded bug: the controller's safety margin is DESIGN.md
// sketch's 5 m instead of the example's 10 m. Then `brakes_when_close` is violated (e.g.
// reading = 10, speed = 5: 10 > 25/12 + 5 = 7.08); the verifier must find a counterexample and
// replay it in float64. The other properties keep their verdicts (monotone holds; rarely_late
// holds with noise > 5 m = 10 sigma needed; never_late_when_slow violated).

/// A noisy range sensor.
module Sensor(distance: real) -> (reading: real) {
    noise ~ Normal(0.0, 0.5);
    reading = min(200.0, max(0.0, distance + noise));
}

module Controller(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    let stopping = speed * speed / 12.0;
    brake = reading <= stopping + 5.0;
}

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
