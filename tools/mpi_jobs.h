// Independent jobs on MPI ranks (tools/mpi_world.h), for `vnnlib --instances` (tools/campaign.h)
// and `verify --all` (tools/verify_all.h): rank 0 hands out one job at a time to each of ranks
// 1..N-1, the next one to whichever sends back a result, and gets every result; as one process it
// runs them itself, in the same order. A job's result is a string (its caller's encoding).
#pragma once

#include <functional>
#include <span>
#include <string>

namespace chassis::tools {

/// Runs job k for each k of `order`, on whichever rank. On rank 0 `done(k, result, rank)` is
/// called for every finished job (rank: the rank that ran it); when it returns false no more
/// jobs are handed out (those running are still received and passed to `done`). Every rank
/// calls runJobs with the same jobs; on a worker it returns once rank 0 has no more for it.
/// A worker whose job ends with a stop request (SIGINT, --time-limit) sends its result and
/// takes no more. When all workers have stopped taking jobs, rank 0 runs the rest itself.
void runJobs(std::span<const size_t> order, const std::function<std::string(size_t)>& run,
             const std::function<bool(size_t, const std::string&, int)>& done);

/// Runs `job` with its standard output captured into `out` and standard error into `err`.
void runCaptured(const std::function<void()>& job, std::string& out, std::string& err);

} // namespace chassis::tools
