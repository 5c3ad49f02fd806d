// Imports: this file imports lib/cycle_b.chs, which imports this file back.
import "lib/cycle_b.chs";
module A() -> (y: real) {
    y = 1.0;
}
