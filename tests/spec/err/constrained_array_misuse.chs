// Flat(simplex) and Flat(ordered) range over a whole real array: not a scalar choice, not an
// element, not observed, not in lpdf; an int array cannot take them; an input gets its own error.
module M(y: real[3]) -> () {
    a ~ Flat(simplex);
    var b: real[3];
    b[0] ~ Flat(ordered);
    observe(Flat(simplex), y);
    let l = lpdf(Flat(ordered), y);
    var n: int[3];
    n ~ Flat(simplex);
}
module In(x: real[3]) -> () {
    x ~ Flat(simplex);
}
