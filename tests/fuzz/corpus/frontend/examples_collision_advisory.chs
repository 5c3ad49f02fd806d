// An ACAS-like collision-avoidance advisory, built from small symbolic modules (time to the
// closest approach -> threat level -> advice), a probabilistic encounter model with a noisy range
// sensor, and properties of each kind: safety over a box, relational symmetry and monotonicity
// (two executions of one module), a bound on the probability of strong advisories, and `always`.
//
// tau = range / closing speed is the time to the closest point of approach (seconds). The threat
// level is 0 (none) above 40 s, 1 (caution) above 20 s, 2 (warning) otherwise; the advice turns
// away from the intruder's side (bearing in degrees, positive = intruder on the right).
//   chassis run examples/collision_advisory.chs Advisory --input range=900 --input bearing=30 --input closing=120
//   chassis run examples/collision_advisory.chs Encounter --seed 1
//   chassis verify examples/collision_advisory.chs

enum Advice { ClearOfConflict, TurnLeft, TurnRight, StrongLeft, StrongRight }

/// Time to the closest point of approach, in seconds.
module TimeToCPA(range: real in [0, 10000], closing: real in [1, 300]) -> (tau: real) {
    tau = range / closing;
}

/// Threat level from the time to the closest approach: 0 none, 1 caution, 2 warning.
module Threat(tau: real in [0, 10000]) -> (level: int) {
    level = if tau > 40.0 then 0 else (if tau > 20.0 then 1 else 2);
}

/// The advisory for an intruder at `range` metres, `bearing` degrees, closing at `closing` m/s.
module Advisory(range: real in [0, 10000], bearing: real in [-180, 180],
                closing: real in [1, 300]) -> (advice: Advice) {
    let level = Threat(TimeToCPA(range, closing));
    if level == 0 {
        advice = ClearOfConflict;
    } else if bearing >= 0.0 {
        advice = if level == 1 then Advice.TurnLeft else Advice.StrongLeft;
    } else {
        advice = if level == 1 then Advice.TurnRight else Advice.StrongRight;
    }
}

/// A random encounter, seen through a range sensor with 30 m of Gaussian noise (clamped to the
/// sensor's span).
module Encounter() -> (range: real, bearing: real, closing: real, advice: Advice) {
    range ~ Uniform(0.0, 10000.0);
    bearing ~ Uniform(-180.0, 180.0);
    closing ~ Uniform(50.0, 300.0);
    noise ~ Normal(0.0, 30.0);
    let measured = min(max(range + noise, 0.0), 10000.0);
    advice = Advisory(measured, bearing, closing);
}

/// Far and slow intruders raise no alert (tau >= 8000 / 150 > 40 s).
property clear_when_far:
    forall r in [8000, 10000], b in [-180, 180], v in [1, 150]:
        Advisory(r, b, v) == ClearOfConflict;
/// Close and fast intruders always raise an alert (tau <= 1000 / 100 = 10 s).
property alert_when_close:
    forall r in [0, 1000], b in [-180, 180], v in [100, 300]:
        Advisory(r, b, v) != ClearOfConflict;
/// Mirror symmetry: an intruder on the right gets the mirror image of the advice on the left.
property symmetric:
    forall r in [0, 10000], b in [0.001, 180], v in [1, 300]:
        (Advisory(r, b, v) == TurnLeft => Advisory(r, -b, v) == TurnRight)
        && (Advisory(r, b, v) == StrongLeft => Advisory(r, -b, v) == StrongRight);
/// A nearer intruder is never a lesser threat.
property monotone_in_range:
    forall r1 in [0, 10000], r2 in [0, 10000], v in [1, 300]:
        r1 <= r2 => Threat(TimeToCPA(r1, v)) >= Threat(TimeToCPA(r2, v));
/// Strong advisories (tau <= 20 s) happen in about 35% of random encounters.
property strong_is_uncommon:
    P[Encounter](advice == StrongLeft || advice == StrongRight) <= 0.4;
/// Whatever the sensor reads, an intruder on the left is never told to turn left.
property away_from_intruder:
    always[Encounter](bearing >= 0.0 || (advice != TurnLeft && advice != StrongLeft));
