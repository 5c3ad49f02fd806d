// Lexical forms: line comments, /* block comments */ (also across lines and inside
// expressions), doc comments on every kind of declaration, number literals of every accepted
// form, strings with escapes, and free layout.

/* A block comment
   over several lines, with // and /// inside it and a lone * and / too. */

/// Doc comment on an enum.
enum Unit { Metre, Foot }

/// Doc comment on a network.
network Net(x: real) -> (y: real) = onnx("dir with spaces/\"quoted\"\\net\t.onnx");

/// Doc comment on a module,
/// over two lines.
module Numbers() -> (a: int, b: real, c: real, d: real, e: real, f: real) {
    a = 0 + 007 + 1234567890;     // ints, leading zeros allowed
    b = 0.5 + 10.25;              // digits '.' digits
    c = 1e3 + 1E3 + 2e+2;         // digits exponent
    d = 2.5e-3 + 6.02E23;         // digits '.' digits exponent
    e = /* inline */ 1.0/**/+2.0; // comments between tokens
    f = 9223372036854775807 * 1.0; // the largest int64
}

/// Doc comment on a property.
property units: forall x in [0,1]:x>=0.0;

module Dense(x:real)->(y:real){y=x*x;}
