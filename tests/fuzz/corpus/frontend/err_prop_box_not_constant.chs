// Properties: box bounds must be constants.
module M(x: real) -> (y: real) {
    y = x;
}
property p: forall a in [0, 1], b in [0, a]: M(b).y <= 1.0;
