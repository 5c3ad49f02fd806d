// Probability and expectation properties, P[M](event | given) cmp p and E[M](expr) cmp c.
//
// Finite discrete models (every choice discrete with a finite support): exact, by depth-first
// enumeration of the traces through the interpreter (each trace's choices replayed), summing
// prior * weight; P = sum over traces with event (and given) / sum over traces with given. The
// sums are float64; the interval reported is the value widened by (n + 2) * 2^-52 relative
// (n the number of traces), a bound on the rounding of n additions of non-negative terms.
//
// Continuous models without observe/factor/condition and with constant distribution parameters
// (Uniform, Normal, Exponential, HalfNormal): a CERTIFIED interval. The space of the choices is
// partitioned into boxes (cells), starting from the prior's support cut at the 1e-30-tail
// quantiles (the tails count as undecided); each cell is proved inside the event (Z3:
// cell /\ !event unsat) or outside it (cell /\ event unsat) or split in two along its widest
// coordinate (largest undecided mass first), until the bound is decided or the cell budget is
// spent. A cell's mass is the product of its prior CDF differences, computed in float64 (erfc,
// within a few ulp) and widened by a relative 1e-9, so lo = sum of inside masses (rounded down)
// and hi = 1 - sum of outside masses (rounded up) bound the real probability.
// Anything else (posterior-conditioned continuous models, E of a continuous model, other
// distributions, choices whose parameters depend on other choices) is `unknown` with the reason.
#pragma once

#include "verifier/properties.h"

namespace chassis::verifier {

/// Fills r's verdict, interval and method for a Probability or Expectation property.
void checkProbability(const ir::Program& program, const ir::Property& prop,
                      const VerifyOptions& opts, PropertyResult& r);

} // namespace chassis::verifier
