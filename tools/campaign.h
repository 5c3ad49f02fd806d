// `chassis vnnlib --instances instances.csv --results results.csv [--timeout S] [--limit N]`:
// a VNN-COMP campaign. instances.csv has one instance a row, `onnx,vnnlib,timeout` (paths
// relative to the csv's folder, timeout in seconds); results.csv gets one row per finished
// instance, `onnx,vnnlib,result,seconds` (the paths as in instances.csv; result unsat, sat,
// timeout, unknown, or error when the instance's files are bad — the reason on standard error).
//
// results.csv is rewritten whole (atomically) after each finished row, in instances.csv's order,
// so an interrupted campaign leaves every finished row; a re-run keeps the rows already there
// (and any row of another instance; an `error` or `timeout` row too: delete a row to run it
// again) and runs only the rest. --limit N runs at most N of them.
// --timeout S replaces every instance's own timeout.
//
// Instances run longest timeout first. Under `mpirun -np N` (tools/mpi_world.h) rank 0 hands
// them out one at a time to ranks 1..N-1 as each finishes the previous one and writes
// results.csv; as one process, it runs them all itself. Each runs the single-instance path of
// `chassis vnnlib NET PROP` (its verdict, counterexample checks and exit codes).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace chassis::tools {

struct CampaignOptions {
  std::string instances, results;
  size_t limit = 0;               // 0: no limit
  CLI::Option* timeout = nullptr; // the command's --timeout (given: it replaces the csv's)
  const CLI::App* app = nullptr;  // the command, to refuse its one-instance options
  double timeoutValue = 0;
};

/// Adds --instances, --results and --limit to `app`; `timeout` is the command's --timeout.
void addCampaignOptions(CLI::App& app, CampaignOptions& o);

/// Runs one instance; the exit code of `chassis vnnlib` and the VNN-COMP result text (its first
/// line is the verdict) in `resultText`.
using InstanceRunner = std::function<int(const std::string& onnx, const std::string& vnnlib,
                                         double timeout, std::string& resultText)>;

/// Runs the campaign; exit code 0 when every row is written (whatever the verdicts), 2 on bad
/// csv files, or the stop's code (tools/run_limits.h) when stopped.
int runCampaign(const CampaignOptions& o, const InstanceRunner& runOne);

} // namespace chassis::tools
