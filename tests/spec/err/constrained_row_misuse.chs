// Flat(simplex) and Flat(ordered) into a matrix constrain its rows: the matrix (or the row) must
// be real, not an element, not an input; a row of a one-dimensional array is an element.
module M(Y: real[2, 3]) -> () {
    var n: int[2, 3];
    n ~ Flat(simplex);
    n[0] ~ Flat(ordered);
    var x: real[2, 3];
    x[0, 1] ~ Flat(simplex);
    Y ~ Flat(simplex);
    Y[1] ~ Flat(ordered);
    observe(Flat(simplex), Y);
    var b: real[3];
    b[0] ~ Flat(simplex);
}
