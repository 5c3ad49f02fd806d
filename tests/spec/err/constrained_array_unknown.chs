// Flat takes named bounds or one of the array constraints it knows.
module M() -> () {
    var x: real[3];
    x ~ Flat(sorted);
}
