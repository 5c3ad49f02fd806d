// Recursion: two modules that call each other.
module Even(n: int) -> (y: bool) {
    y = if n == 0 then true else Odd(n - 1);
}
module Odd(n: int) -> (y: bool) {
    y = if n == 0 then false else Even(n - 1);
}
