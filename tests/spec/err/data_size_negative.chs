// Sizes from the data: a length must be at least 1 (data_size_negative.json gives T = -1) and
// a non-integral value is no size (N = 2.5).
module Mean(T: int, N: int, y: real[T], z: real[N]) -> (mu: real) {
    mu = y[0] + z[0];
}
