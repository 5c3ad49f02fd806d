// Likelihood weighting on a module compiled by the JIT (codegen.h's JitModel): the algorithm and
// the streams of symbolic/infer_lw.h (blocks of kLwBlock traces, block b on Rng(seed).split(b),
// the probe run for the query in the interpreter), each trace run by the compiled code instead
// of the interpreter (symbolic/lw_driver.h's blocks, shared with the interpreter). Because the compiled code draws the interpreter's stream and scores the
// same weights, the Posterior is the interpreter's, bit for bit, at the same seed.
//
// A query of outputs only runs the traces 64 at a time in the generated block loop
// (JitModel::runLwBlock: the module's untraced variant inlined into a loop, its Normal and
// Bernoulli draws generated inline, the generator's state and the trace's totals in registers),
// which writes each trace's outputs and log weight straight into the block's rows; the stop is
// polled between calls. A query of random choices (or the default query of a module without
// outputs) runs the traces one by one, traced (runtime.h JitTracing), which records the choices
// under the interpreter's addresses. A failing trace is re-run by the interpreter from the
// generator state it started from, so the error is the interpreter's (message and location).
#pragma once

#include "codegen/codegen.h"
#include "symbolic/infer.h"

namespace chassis::codegen {

Expected<symbolic::Posterior> inferLwCompiled(const ir::Function& f,
                                              std::span<const symbolic::Value> inputs,
                                              const symbolic::InferOptions& options,
                                              const JitModel& model);

} // namespace chassis::codegen
