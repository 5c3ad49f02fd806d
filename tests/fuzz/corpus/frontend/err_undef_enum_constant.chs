// Undefined: an enum constant that the enum does not have.
enum Mode { Off, Heat, Cool }
module M() -> (m: Mode) {
    m = Mode.Purple;
}
