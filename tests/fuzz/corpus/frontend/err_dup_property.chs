// Duplicate: two properties with one name.
module M(x: real in [0, 1]) -> (y: real) {
    y = x;
}
property p: forall x in [0, 1]: M(x) >= 0.0;
property p: forall x in [0, 1]: M(x) <= 1.0;
