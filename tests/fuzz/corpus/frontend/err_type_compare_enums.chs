// Type: constants of different enums cannot be compared.
enum Mode { Off, On }
enum Level { Low, High }
module M(m: Mode) -> (y: bool) {
    y = m == Level.Low;
}
