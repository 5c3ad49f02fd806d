// Traced runs of a module compiled by the JIT (codegen.h's JitModel with runtime.h's
// JitTracing), and single-site Metropolis-Hastings on them.
//
// runCompiled is symbolic::run on compiled code: the same outputs and the same Trace (addresses,
// parameters, values, log densities, totals) at the same generator state, its choices replayed
// from RunOptions::replay. inferMhCompiled / runMhChainsCompiled are symbolic::inferMh /
// runMhChains (symbolic/infer_mh.h) with each re-execution of the model run by the compiled
// code (the chain is symbolic/mh_driver.h's, shared with the interpreter, over a compiled runner): the same proposals, the same acceptance ratio computed in the same order, the same
// streams, so the chains, and the Posterior, are the interpreter's bit for bit at a seed (the
// probe run that resolves the query stays interpreted). The replay trace of a move is the
// chain's current trace with the proposed value at the chosen site, which is the map the
// interpreted chain replays from.
//
// A compiled run that fails is re-run by the interpreter from the same generator state and with
// the same replayed values, so an error is the interpreter's (message and location).
#pragma once

#include "codegen/codegen.h"
#include "symbolic/infer.h"
#include "symbolic/infer_mh.h"

namespace chassis::codegen {

/// The interpreter's address string of the choice key `key` (JitChoice), e.g. "Sensor#2[1]/noise".
std::string choiceAddress(const JitModel& model, std::string_view key);
/// The key of the interpreter address `address`, or nullopt when no run can make it (a name the
/// module never uses, or text the interpreter never forms).
std::optional<std::string> choiceKey(const JitModel& model, std::string_view address);

/// The error of a run of compiled `f` (JitFunction, deterministic) on `inputs` that returned
/// `code` (not kOk), as the interpreter reports it: its kind, location and text (a matrix index
/// names its row or column: "column index 7 is out of range [0, 3)" at the index expression).
/// The interpreter re-runs the inputs, on which a deterministic module fails where and as the
/// compiled code did (as a failing runCompiled's error is found); an Error at `f` naming the
/// code if the interpreter does not fail (a bug of the JIT back end).
Error compiledRunError(const ir::Function& f, std::span<const symbolic::Value> inputs, int code);

/// symbolic::run on compiled code (RunResult::frame is left empty).
Expected<symbolic::RunResult> runCompiled(const ir::Function& f,
                                          std::span<const symbolic::Value> inputs, Rng& rng,
                                          const JitModel& model,
                                          const symbolic::RunOptions& options = {});

Expected<symbolic::MhRun> runMhChainsCompiled(const ir::Function& f,
                                              std::span<const symbolic::Value> inputs,
                                              const symbolic::InferOptions& options,
                                              std::span<const size_t> chainIds,
                                              const JitModel& model);
Expected<symbolic::Posterior> inferMhCompiled(const ir::Function& f,
                                              std::span<const symbolic::Value> inputs,
                                              const symbolic::InferOptions& options,
                                              const JitModel& model);

} // namespace chassis::codegen
