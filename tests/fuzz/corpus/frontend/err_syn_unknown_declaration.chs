// Syntax: a misspelt declaration keyword.
modul M(x: real) -> (y: real) {
    y = x;
}
