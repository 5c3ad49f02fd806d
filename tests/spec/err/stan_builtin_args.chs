// Argument counts and types of square, pow, fabs, log_sum_exp and log_mix.
module Use(x: real, b: bool, v: real[2]) -> (o: real) {
    let a = pow(v, 2.0);
    let c = pow(x);
    let d = log_sum_exp(1.0, 2.0, 3.0);
    let e = log_sum_exp(b);
    let f = log_sum_exp(x, v);
    let g = log_mix(0.5, 1.0);
    let h = log_mix(b, 1.0, 2.0);
    let i = square(b);
    let j = fabs(x, x);
    let k = squar(x);
    o = x;
}
