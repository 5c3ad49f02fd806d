// Vectorised statements: an array parameter must be as long as the vectorised array; the
// observed array's elements must be draws of the distribution; a scalar target is not
// vectorised over an array parameter.
module M(y: real[3], b: bool[3]) -> (x: real[2]) {
    observe(Normal([0.0, 1.0], 1.0), y);
    observe(Normal(0.0, 1.0), b);
    s ~ Normal([0.0, 1.0], 1.0);
    x ~ Normal(0.0, [1.0, 2.0, 3.0]);
}
