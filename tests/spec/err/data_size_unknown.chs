// Sizes from the data: without data (no data_size_unknown.json), a size written as a name is an
// error at its first use, reported once.
module Mean(T: int, y: real[T]) -> (mu: real) {
    mu ~ Normal(0.0, 10.0);
    for t in 0..T {
        observe(Normal(mu, 1.0), y[t]);
    }
}
