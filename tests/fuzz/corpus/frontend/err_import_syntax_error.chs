// Imports: an error inside an imported file is reported in that file.
import "lib/broken.chs";
module M() -> (y: real) {
    y = 1.0;
}
