// Vectorised statements over matrices: a real parameter is real, real[K] (per column) or
// real[N, K]; the observed matrix's elements must be draws of the distribution; the draw's
// element type must be the matrix's; an input matrix is data, not a choice.
module M(Y: real[2, 3], B: bool[2, 3]) -> () {
    observe(Normal([0.0, 1.0], 1.0), Y);
    observe(Normal([[0.0, 1.0], [1.0, 2.0]], 1.0), Y);
    observe(Normal(0.0, 1.0), B);
    var Z: int[2, 3];
    Z ~ Normal(0.0, 1.0);
    Y ~ Normal(0.0, 1.0);
}
