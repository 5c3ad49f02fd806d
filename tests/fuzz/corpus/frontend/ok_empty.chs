// A file with only comments and no declarations checks clean.
/* nothing here */
