// Intermediate (pre-activation) bounds tightened by the Planet LP relaxation (lp_relaxation.h):
// each unstable ReLU's pre-activation h_kj is minimised and maximised over the triangle
// relaxation of the whole network on the box, and the certified (Neumaier-Shcherbina) bounds
// of those LPs replace the neuron's bounds where tighter. The LP couples the neurons of a layer
// (CROWN bounds each through its own linear relaxation), so it can only be tighter than the
// bounds it is built from, at the price of one simplex per bound. Used once at an undecided
// root of a ReLU-splitting search: every sub-domain inherits the root's bounds.
#pragma once

#include "neural/affine_net.h"
#include "verifier/bounds.h"

#include <chrono>
#include <vector>

namespace chassis::verifier {

struct LpTightenStats {
  int layers = 0;          // layers whose LPs were solved (all or some of their neurons)
  int tasks = 0;           // bounds asked (2 per unstable neuron)
  int solved = 0;          // ... of which certified within the time
  int solves = 0;          // GLPK simplex runs
  int tightened = 0;       // bounds that became tighter
  int unstableBefore = 0;  // unstable ReLUs of the layers treated, before and after
  int unstableAfter = 0;
  bool complete = true;    // every task was solved before the deadline
};

/// Tightens layer k's pre-activation bounds in `nb` (a ReLU layer; nb sound on `box`, no
/// splits) by the LP bounds of its unstable neurons, in decreasing order of their triangle
/// area -l u / (u - l), until `deadline`. `threads` threads each solve a share of the neurons
/// on their own GLPK problem (warm-started between neurons). Bounds are only ever intersected,
/// so nb stays sound whatever is solved; nb.infeasible is set if a neuron's bounds cross
/// (then the box has no point).
LpTightenStats tightenLayerByLp(const neural::AffineNet& net, const Box& box, NetBounds& nb,
                                int k, std::chrono::steady_clock::time_point deadline,
                                int threads);

/// tightenLayerByLp on the last `layers` ReLU layers above the first (whose bounds from the
/// box are exact per neuron), bottom up (each layer's LP uses the tightened layers below);
/// each layer gets an equal share of the time left before `deadline`.
LpTightenStats tightenLastLayersByLp(const neural::AffineNet& net, const Box& box, NetBounds& nb,
                                     int layers, std::chrono::steady_clock::time_point deadline,
                                     int threads);

} // namespace chassis::verifier
