// Type: no implicit real -> int conversion.
module M(x: real) -> (n: int) {
    n = x;
}
