// Enums: declaration (with a trailing comma), enum-typed inputs and outputs, qualified and bare
// constants, comparisons, enum arrays, an if / else if chain, quantifiers over an enum.

enum Mode { Off, Heat, Cool, }
enum Level { Low, Mid, High }

/// Chooses a mode from a temperature.
module Thermostat(temp: real in [-20, 50], current: Mode) -> (next: Mode, level: Level) {
    if temp < 18.0 {
        next = Mode.Heat;
    } else if temp > 24.0 {
        next = Cool;
    } else {
        next = current;
    }
    level = if current == Off then Level.Low else (if current != Mode.Heat then Mid else High);
}

module Modes() -> (ms: Mode[3], first: Mode) {
    ms = [Off, Mode.Heat, Cool];
    first = ms[0];
}

property heats_when_cold:
    forall t in [-20, 17], m in Mode: Thermostat(t, m).next == Heat;
property some_mode_cools:
    exists m in Mode: Thermostat(30.0, m).next == Mode.Cool;
