// Flat priors: a bound is a real expression (FlatLower is Flat(lower = ...) in messages), and a
// flat prior's draw is real.
module C() -> (n: int) {
    x ~ Flat(lower = true);
    n ~ Flat(upper = 1.0);
}
