// Sizes from the data: the value the data gives a size must lie in the input's declared range.
module Mean(T: int in [1, 5], y: real[T]) -> (mu: real) {
    mu = sum(y);
}
