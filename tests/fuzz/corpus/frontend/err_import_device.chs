// Imports: a device is not a .chs file (reading /dev/zero would never end).
import "/dev/null";
module M() -> (y: real) {
    y = 1.0;
}
