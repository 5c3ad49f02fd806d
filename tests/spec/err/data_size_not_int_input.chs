// Sizes from the data: a length must name an int input of the module (not a real input, not a
// local, not another module's input).
module Mean(T: real, y: real[T]) -> (mu: real) {
    let n = 3;
    var z: real[n];
    mu = y[0] + z[0];
}
