// Duplicate: enums and modules share one namespace.
enum Mode { Off, On }
module Mode() -> (y: real) {
    y = 1.0;
}
