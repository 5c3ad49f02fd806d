// Control flow: nested if / else if / else, nested bounded for loops with constant bounds
// (expressions over literals, negative bounds, an empty loop), mutable locals, both conditional
// expression forms, outputs assigned on every path.

module Control(x: real in [0, 100], n: int in [0, 10]) -> (y: real, z: int, w: bool) {
    var count: int;
    var s: real = 0.0;
    for i in -2..2 * 3 + 1 {
        if i % 2 == 0 {
            for j in 0..3 {
                count = count + 1;
            }
        } else {
            s = s + i;
        }
    }
    for e in 5..5 {
        count = count + 100;
    }
    if x > 50.0 {
        if n > 5 {
            y = x;
            z = n;
        } else {
            y = -x;
            z = count;
        }
    } else if x > 10.0 {
        y = s;
        z = 0;
    } else {
        y = x > 5.0 ? s : s + 1.0;
        z = if n > 2 then n else 2;
    }
    w = !(y > 0.0) && count >= 0;
}
