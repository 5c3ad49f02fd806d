// Relational properties: several executions (copies) of one module in one formula, and calls of
// different modules compared with each other.

module Controller(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool, margin: real) {
    let stopping = speed * speed / 12.0;
    brake = reading <= stopping + 5.0;
    margin = reading - stopping;
}

module Lipschitz(x: real in [-1, 1]) -> (y: real) {
    y = 0.5 * x + 0.25 * relu(x);
}

property monotone_in_distance:
    forall r1 in [0, 200], r2 in [0, 200], s in [0, 40]:
        r1 <= r2 && Controller(r2, s).brake => Controller(r1, s).brake;
property monotone_in_speed:
    forall r in [0, 200], s1 in [0, 40], s2 in [0, 40]:
        s1 <= s2 => Controller(r, s1).margin >= Controller(r, s2).margin;
property lipschitz:
    forall a in [-1, 1], b in [-1, 1]:
        abs(Lipschitz(a) - Lipschitz(b)) <= 0.75 * abs(a - b) + 0.000001;
property three_copies:
    forall a in [0, 200], b in [0, 200], c in [0, 200], s in [0, 40]:
        a <= b && b <= c && Controller(c, s).brake => Controller(b, s).brake && Controller(a, s).brake;
