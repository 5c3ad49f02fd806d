// Syntax: outputs without the arrow.
module M(x: real) (y: real) {
    y = x;
}
