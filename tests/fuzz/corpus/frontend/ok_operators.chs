// Every operator, and precedence / associativity: => (lowest, right), ?:, ||, &&, == !=,
// < <= > >=, + -, * / %, unary - and !, postfix [] and .out; promotion of int to real.

module Ops(a: int in [1, 9], b: int in [1, 9], x: real, p: bool, q: bool)
    -> (i: int, r: real, t: bool, u: bool, v: bool) {
    i = a + b * a - b % 4 - -a;         // + - * % and unary -
    r = x / a + a / b - x * 2 + (x - 1.0) * -x;
    t = a < b || a <= b && b > a || a >= b;
    u = (p => q) == (!p || q) && p != q == false;
    v = p => q => !p;
}

/// Conditional expressions nest, `?:` and `if then else` are the same.
module Cond(x: real) -> (s: real) {
    s = x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : 0.0;
}

module Promote(n: int, m: int[2]) -> (r: real, rs: real[2]) {
    r = n;          // int -> real in an assignment
    rs = m;         // int[2] -> real[2]
}
