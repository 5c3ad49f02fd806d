// A library file imported by ok/imports.chs (not itself a test case: it lives in ok/lib/).
// It imports lib/base.chs, which ok/imports.chs imports too (loaded once).
import "base.chs";

enum Shape { Square, Circle }

module Area(s: Shape, size: real in [0, 10]) -> (a: real) {
    a = if s == Shape.Square then size * size else Pi() * size * size;
}
