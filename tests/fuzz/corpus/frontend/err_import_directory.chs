// Imports: a directory is not a .chs file (today it is read as an empty file and accepted).
import "lib";
module M() -> (y: real) {
    y = 1.0;
}
