// Helper of err/import_syntax_error.chs (not a test case): a missing semicolon.
module B() -> (y: real) {
    y = 2.0
}
