// Duplicate: an enum with one constant twice.
enum Mode { Off, Heat, Off }
