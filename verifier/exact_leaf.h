// The exact leaf of input splitting: decides "some x of the box (within the domain's bounds) has
// C net(x) <= d" for a domain with few unstable ReLUs, exactly up to a budget of LPs, by
// splitting lazily on the unstable ReLUs' phases (a small ReLU-split branch and bound inside the
// domain, the idea of nnenum's star sets without them).
//
// For a fixed phase of every unstable ReLU the network is linear on the domain, and the domain
// LP of lp_relaxation.h, with each phase applied to the neuron's pre-activation bounds (h >= 0:
// z = h; h <= 0: z = 0), is exactly {x in the box: the phases hold, C net(x) - m <= d}. With
// phases still free it is the Planet relaxation of the rest. Each node of the search:
//   - its bounds: the domain's bounds with the node's phases applied, intersected with
//     symbolicBounds of the box under those phases (both sound, so is their intersection);
//     empty -> the node has no input;
//   - its LP (by default lp_relaxation.h's compact form: a few columns instead of one per
//     neuron, 10-100 times cheaper on ACAS Xu): a certified lower bound (lp_relaxation.h: from GLPK's duals in rounded-error-
//     bounded arithmetic, never GLPK's status) of min m > 0 closes the node;
//   - GLPK's input point is tried by `replays` (float64, in the box, every constraint): the only
//     way to answer Violated;
//   - else the unstable ReLU whose triangle is used most at the LP's optimum (z - relu(h)
//     largest; the largest triangle area if GLPK gave no point) is split, the phase of the LP
//     point explored first.
// The phases h >= 0 and h <= 0 cover every input, so Holds (every node closed) means no input
// of the domain satisfies the case. Unknown (undecided): the LP budget ran out, an LP failed, or
// a node with every phase fixed has a violating LP point that does not replay in float64 (a
// violation only within rounding).
#pragma once

#include "neural/affine_net.h"
#include "verifier/bounds.h"
#include "verifier/problem.h"
#include "verifier/verdict.h"

#include <Eigen/Dense>

#include <string>

namespace chassis::verifier {

struct ExactLeafOptions {
  int maxLps = 32;           // LPs (nodes) per call before giving up (Unknown)
  double lpTimeLimit = 5.0;  // s per LP solve
  bool rebound = true;       // each split node's bounds are also recomputed under its phases
  bool compact = true;       // the LP's compact form (lp_relaxation.h: columns only for the
                             // inputs, unstable ReLUs and outputs), else the full one
};

struct ExactLeafResult {
  Verdict status = Verdict::Unknown; // Holds: proved; Violated: x; Unknown: undecided
  Eigen::VectorXd x; // Violated: a point that passed `replays`
  long lps = 0;      // LPs solved
  std::string reason; // Unknown: why
};

/// nb: sound pre-activation bounds of `box` (a sub-domain of the case's box; no phase splits).
/// `wp` (may be null) must be built from `net`. Checks pollCancellation() between LPs.
ExactLeafResult exactLeaf(const neural::AffineNet& net, const CaseSpec& cs, const Box& box,
                          const NetBounds& nb, const ExactLeafOptions& opt,
                          const WeightProducts* wp = nullptr);

} // namespace chassis::verifier
