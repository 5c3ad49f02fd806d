// Helper of err/import_cycle.chs (not a test case): imports it back, closing a cycle.
import "../import_cycle.chs";
module B() -> (y: real) {
    y = 2.0;
}
