// Calls: an enum is not callable.
enum Mode { Off, On }
module M() -> (y: real) {
    y = Mode(1);
}
