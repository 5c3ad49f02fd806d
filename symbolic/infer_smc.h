// Sequential Monte Carlo (a particle filter over the program's execution) with adaptive
// systematic resampling, resample-move rejuvenation and a standard error for the log evidence.
//
// Granularity: every observe statement, in execution order, anywhere in the module (typically a
// loop of observes). N particles each hold a suspended execution (symbolic/interp.h, Suspension:
// the control position and the frames, not the inputs). Stage k resumes every running particle
// until just after its next observe: the choices in between are drawn from the prior and the
// particle's log weight grows by what the execution's weight gained (that observe, plus any
// factor or condition in between). A particle whose execution ends instead is finished (its
// outputs are read then). A stage costs O(N * the statements between two observes + N * the
// number of the frame's variables), so a run with T observes costs O(N T): the history of a
// particle is a chain of immutable shared segments (one per stage), resampling copies a pointer,
// and a frame's arrays (e.g. the length-T trajectory) are shared between copies
// (symbolic/shared_array.h): a particle that writes one element after a copy copies one leaf of
// 64 doubles (its focus), and the O(log T) path of inner nodes above it only when it writes in
// another leaf than last time (once per 64 steps for a trajectory written in order).
//
// Resampling: after each stage, when the effective sample size (sum w)^2 / sum w^2 falls below
// N/2, systematically (one u ~ U(0, 1/N), copies at u + j/N of the cumulative normalised
// weights); weights reset to 1. The log evidence is
//     log Z = sum over resampling stages of log(mean w) + log(mean of the final w),
// an unbiased estimate of Z on the natural scale. Its standard error is the square root of the
// Lee & Whiteley (2018) estimate of var(Z^)/Z^2, which uses each particle's initial ancestor
// ("Eve") and the number of resamplings (valid with adaptive resampling and with the moves
// below); Posterior::smcEves says how many Eves survive: with one left the estimate says
// nothing (then use independent runs, as bench/smc/run does).
//
// Rejuvenation (resample-move): after each resampling every running particle takes
// InferOptions::smcRejuvenationMoves single-site Metropolis-Hastings steps on the choices drawn in
// its last smcRejuvenationLag stages, re-running those stages from the suspension before them
// with the other choices replayed. The target is the current partial posterior (every observe so
// far), so the weights are unchanged. Choices older than the lag are not moved (a whole-trace
// move would cost O(T) per particle and make the run quadratic again): a static parameter drawn
// before the first observe is only rejuvenated when the lag reaches back to it. A proposal after
// which the window no longer reaches the same number of observes (a change of control flow) is
// rejected.
//
// Determinism: particle i at stage k draws from Rng(seed).split(k * N + i) and moves with
// Rng(seed, 2).split(k * N + i); resampling uses Rng(seed, 1); particles are advanced in blocks
// on options.threads threads with identical results.
#pragma once

#include "symbolic/infer.h"

namespace chassis::symbolic {

Expected<Posterior> inferSmc(const ir::Function& f, std::span<const Value> inputs,
                             const InferOptions& options);

} // namespace chassis::symbolic
