// Every builtin function, on scalars and (where elementwise) on arrays, with int and real
// arguments: min max abs relu exp log sqrt sigmoid tanh sum dot argmax.

module Builtins(a: real in [0.5, 4], b: int in [-3, 3], v: real[3], u: int[3])
    -> (r: real, i: int, va: real[3], k: int, ia: int[3]) {
    let m1 = min(a, 2.0);
    let m2 = max(b, 1);
    let m3 = min(b, a);
    let ab = abs(b) + abs(-a);
    let re = relu(a - 1.0) + relu(b);
    let tr = exp(a) + log(a) + sqrt(a) + sigmoid(a) + tanh(a);
    let si = exp(b) + log(2) + sqrt(4);
    let s1 = sum(v);
    let s2 = sum(u);
    let d1 = dot(v, v);
    let d2 = dot(u, u);
    let d3 = dot(u, v);
    r = m1 + m3 + ab + re + tr + si + s1 + d1 + d3;
    i = m2 + s2 + d2 + argmax(u) + argmax(v);
    va = relu(min(v, max(v, [0.0, 1.0, 2.0])));
    k = abs(b) + relu(b);
    ia = abs(u);
}

module Elementwise(v: real[2]) -> (e: real[2], l: real[2], s: real[2], g: real[2], t: real[2]) {
    e = exp(v);
    l = log(abs(v));
    s = sqrt(abs(v));
    g = sigmoid(v);
    t = tanh(v);
}
