// Properties: a quantifier over an enum that does not exist.
module M(x: real) -> (y: bool) {
    y = x > 0.0;
}
property p: forall c in Colour: M(1.0).y;
