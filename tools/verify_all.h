// `chassis verify --all FILE...`: `chassis verify` on several .chs files (each with the same
// options), as one table: file, property, verdict, time, counterexample, in the files' order
// (with --json: one array of {file, exit, results}). Under `mpirun -np N` rank 0 hands the files
// out to ranks 1..N-1, one at a time (tools/mpi_jobs.h); as one process it verifies them in turn.
// A file that cannot be loaded gets a row `error` (its diagnostic on standard error).
// Exit code: 4 if some file had an internal error, else 2 if some file was bad input, else 1 if
// some property was violated, else 3 if some was undecided, else 0; a stop's own code
// (tools/run_limits.h) when the run was stopped.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace chassis::tools {

struct VerifyAllOptions {
  bool all = false;
  std::vector<std::string> more; // the files after the first
};

/// Adds --all and the positional FILE... after the first file to `app` (`chassis verify`).
void addVerifyAllOptions(CLI::App& app, VerifyAllOptions& o);

/// Verifies one file, printing the results as verify's JSON on standard output; its exit code.
using VerifyFileRunner = std::function<int(const std::string& file)>;

/// With neither --all nor more files: nullopt (the caller verifies its one file). Otherwise the
/// exit code of verifying `first` and o.more (--all required for more than one file).
std::optional<int> verifyAll(const std::string& first, const VerifyAllOptions& o, bool json,
                             const VerifyFileRunner& runOne);

} // namespace chassis::tools
