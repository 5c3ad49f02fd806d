// Helper of err/import_duplicate_name.chs (not a test case): defines M.
module M() -> (y: real) {
    y = 1.0;
}
