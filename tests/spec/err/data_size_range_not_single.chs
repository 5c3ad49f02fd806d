// Sizes from the data: a range fixes a size without data only when it holds one value.
module Mean(T: int in [1, 5], y: real[T]) -> (mu: real) {
    mu = y[0];
}
