// Properties: always over a module that does not exist.
property p: always[Nope](true);
