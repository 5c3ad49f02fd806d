// Sizes from the data: an array the data gives must have the length its size says
// (data_size_length_mismatch.json gives T = 4 and three elements for y).
module Mean(T: int, y: real[T]) -> (mu: real) {
    mu ~ Normal(0.0, 10.0);
    for t in 0..T {
        observe(Normal(mu, 1.0), y[t]);
    }
}
