// The `chassis` command line as a function: main() calls it, and so does the command-line fuzzer
// (tests/fuzz/fuzz_cli.cpp), which must parse every subcommand's options but run only the
// subcommands whose work is bounded by their (tiny) input files.
#pragma once

#include <functional>
#include <string>

namespace chassis::tools {

/// Whether the parsed subcommand `name` may run; when it may not, the driver stops after parsing
/// the command line and returns kOk.
using RunFilter = std::function<bool(const std::string& name)>;

/// Parses argv (argv[0] is the program name), runs the chosen subcommand and returns the process
/// exit code (command.h's ExitCode). With `mayRun` empty every subcommand runs.
int runDriver(int argc, char** argv, const RunFilter& mayRun = {});

} // namespace chassis::tools
