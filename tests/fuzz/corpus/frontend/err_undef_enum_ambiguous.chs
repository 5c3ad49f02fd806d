// Undefined: a bare enum constant that two enums have is ambiguous.
enum Mode { Off, On }
enum Power { Off, Low }
module M() -> (m: Mode) {
    m = Off;
}
