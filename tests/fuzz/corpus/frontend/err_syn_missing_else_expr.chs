// Syntax: a conditional expression needs its else branch.
module M(x: real) -> (y: real) {
    y = if x > 0.0 then 1.0;
}
