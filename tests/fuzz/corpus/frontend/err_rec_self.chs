// Recursion: a module that calls itself.
module F(n: int) -> (y: int) {
    y = if n <= 0 then 1 else n * F(n - 1);
}
