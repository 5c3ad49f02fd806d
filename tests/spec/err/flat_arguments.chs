// Flat priors: bounds are named (lower = ..., upper = ...), each at most once (the bound's type is
// checked in flat_bound_type.chs: a syntax error stops checking).
module A() -> () {
    x ~ Flat(0.0);
}
module B() -> () {
    x ~ Flat(lower = 0.0, lower = 1.0);
}
module D() -> () {
    x ~ Flat(middle = 1.0);
}
