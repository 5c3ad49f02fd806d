// Duplicate: no shadowing, even in a nested block.
module M(x: real) -> (y: real) {
    let a = x;
    if x > 0.0 {
        let a = 1.0;
    }
    y = a;
}
