// `mpirun -np N chassis infer MODEL --method mh|nuts --chains K`: chain c runs on rank c mod N
// (tools/mpi_world.h) with the stream it has in one process (Rng(seed).split(c)), and rank 0
// gathers the draws (bit for bit) and summarises them as one process would: the printed table
// and the --output CSV draws are those of `chassis infer` without mpirun at the same seed (the
// CSV's timing comments aside, which differ between any two runs). Within a rank, its chains run
// on --threads threads as usual. The other methods (exact, lw, smc) run on rank 0 alone.
#pragma once

#include "spec/error.h"
#include "symbolic/infer.h"
#include "symbolic/infer_nuts.h"

#include <optional>
#include <span>

namespace chassis::tools {

/// In a world of more than one process, for MH and NUTS: this rank's chains run, and on rank 0
/// the posterior of all chains (and, when `sampler` is not null, NUTS's run for the CSV files);
/// on a worker an empty Error once its chains are sent (rank 0 reports everything). nullopt
/// when the caller is to run the inference itself (one process; another method on rank 0).
std::optional<Expected<symbolic::Posterior>>
inferChainsOnRanks(const ir::Function& f, std::span<const symbolic::Value> inputs,
                   const symbolic::InferOptions& options, symbolic::NutsResult* sampler);

} // namespace chassis::tools
