// Quantified properties: forall / exists over boxes (int and real bounds, negative, expressions),
// over enums and over booleans, several binders, nested quantifiers, implications, and the body
// extending as far right as possible.

enum Light { Red, Amber, Green }

module Go(light: Light, speed: real in [0, 40], emergency: bool) -> (go: bool, accel: real) {
    go = (light == Green || emergency) && speed < 35.0;
    accel = if go then 1.0 else -1.0;
}

property stops_on_red:
    forall s in [0, 40]: Go(Red, s, false).go == false;
property emergency_goes:
    forall l in Light, s in [0.0, 34.5]: Go(l, s, true).go;
property bool_binder:
    forall e in bool, s in [-1 + 1, 2 * 20]: Go(Amber, s, e).go => e;
property some_go:
    exists l in Light, e in bool: Go(l, 10.0, e).go;
property nested:
    forall s in [0, 30]: exists l in Light: Go(l, s, false).accel > 0.0;
property implies_right_assoc:
    forall s in [0, 40]: s > 100.0 => s > 200.0 => false;
