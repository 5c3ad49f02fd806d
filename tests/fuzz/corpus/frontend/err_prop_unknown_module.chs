// Properties: P over a module that does not exist.
property p: P[Nope](true) <= 0.5;
