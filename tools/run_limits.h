// The overall limits of a long subcommand (verify, vnnlib, infer, train, compare):
// `--time-limit SECONDS` (overall wall clock), `--memory MB` (resident set size), and SIGINT /
// SIGTERM, all through spec/run_control.h. runLimited() installs the session around the
// command and maps a stop to its exit code (command.h): 124 time limit, 5 memory, 130 SIGINT,
// 143 SIGTERM, with "chassis <cmd>: stopped: <why>" on standard error.
#pragma once

#include "spec/run_control.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>

namespace chassis::tools {

/// Adds --time-limit and --memory to `app` (and `--timeout` as another name of --time-limit
/// when the command has no per-step --timeout of its own).
void addRunLimitOptions(CLI::App& app, run::Limits& limits, bool timeoutIsOverall);

/// Runs `command` under a run session with `limits`. A run::Stopped thrown out of it, or a stop
/// requested while it ran, ends with the stop's exit code and message.
int runLimited(const std::string& name, const run::Limits& limits,
               const std::function<int()>& command);

/// The exit code of the stop requested so far (kOk when none).
int stopExitCode();

} // namespace chassis::tools
