// Documentation generated from the command-line definition itself (the subcommands, their
// options and help texts as registered with CLI11), so that it cannot drift from the program:
// `chassis --man` prints a man page (roff; docs/chassis.1 is its output), `chassis --completion
// bash` a bash completion script (scripts/chassis-completion.bash is its output).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace chassis::tools {

/// The man page of `app` (roff, section 1): synopsis, every visible subcommand with its
/// description, positional arguments and options, the exit codes.
std::string manPage(const CLI::App& app);

/// A bash completion script for `app`: subcommand names at the first word, then each
/// subcommand's options (for a word starting with '-') or file names.
std::string bashCompletion(const CLI::App& app);

} // namespace chassis::tools
