// Imports: a file that does not exist.
import "lib/does_not_exist.chs";
module M() -> (y: real) {
    y = 1.0;
}
