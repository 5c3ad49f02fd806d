// Imports: a module defined both here and in an imported file.
import "lib/defines_m.chs";
module M() -> (y: real) {
    y = 2.0;
}
