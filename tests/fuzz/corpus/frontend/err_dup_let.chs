// Duplicate: a let binding declared twice.
module M(x: real) -> (y: real) {
    let a = x;
    let a = 2.0 * x;
    y = a;
}
