// The `chassis` command: everything is in runDriver (driver.cpp), which the command-line fuzzer
// calls too.
#include "tools/driver.h"

int main(int argc, char** argv) { return chassis::tools::runDriver(argc, argv); }
