// Imported twice by ok/imports.chs (directly and through lib/shapes.chs): loaded once.

/// The constant pi, as a module with one output.
module Pi() -> (v: real) {
    v = 3.141592653589793;
}
