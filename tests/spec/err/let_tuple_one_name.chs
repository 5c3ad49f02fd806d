// A tuple of one name is a plain let.
module Use(x: real) -> (o: real) {
    let (a) = Use(x);
    o = x;
}
