// Test helper shared by the verifier tests that need random ReLU networks drawn from chassis::Rng:
// `in` inputs, `hidden` ReLU layers of `width` units, `out` outputs; each weight
// N(0, (gain / sqrt(fan_in))^2) and each bias N(0, biasSd^2), drawn in row order (weights, then
// the bias) so a seed gives the same network. Also a random box, points and corners of a box,
// random phase splits, and the pre-activations of every layer at a point, shared by the bound
// tests; and, for the tests that check the search against Z3, a random net with a property near
// its exact minimum, Z3's verdict on it, and the check of the engine's answer against that
// verdict.
#pragma once

#include "neural/affine_net.h"
#include "spec/rng.h"
#include "spec/vnnlib.h"
#include "verifier/bounds.h"
#include "verifier/network_verifier.h"
#include "verifier/problem.h"
#include "verifier/vnnlib_query.h"
#include "verifier/z3_encoder.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

namespace chassis::testing {

inline neural::AffineNet randomReluNet(Rng& rng, int in, int hidden, int width, int out,
                                       double gain, double biasSd) {
  neural::AffineNet net;
  net.inputSize = in;
  int prev = in;
  for (int k = 0; k <= hidden; ++k) {
    const int rows = k == hidden ? out : width;
    neural::AffineLayer L;
    L.W.resize(rows, prev);
    L.b.resize(rows);
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < prev; ++c)
        L.W(r, c) = rng.normal() * (gain / std::sqrt(double(prev)));
      L.b[r] = biasSd * rng.normal();
    }
    L.relu = k < hidden;
    net.layers.push_back(std::move(L));
    prev = rows;
  }
  return net;
}

/// A box with lo uniform in [-1, 1) and width `width` x (minFraction + uniform), drawn input by
/// input (lo, then its width) from `gen` (chassis::Rng or verifier::SplitMix).
template <class Gen>
verifier::Box randomBox(Gen& gen, int n, double width, double minFraction = 0.2) {
  verifier::Box b;
  b.lo.resize(n);
  b.hi.resize(n);
  for (int i = 0; i < n; ++i) {
    b.lo[i] = 2 * gen.uniform() - 1;
    b.hi[i] = b.lo[i] + width * (minFraction + gen.uniform());
  }
  return b;
}

/// A point of the box: uniform, or (when cornerEvery > 0, every cornerEvery-th s) a random
/// corner; one uniform draw per input either way.
inline Eigen::VectorXd pointOrCorner(Rng& rng, const verifier::Box& box, int s, int cornerEvery) {
  Eigen::VectorXd x(box.lo.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double t = cornerEvery > 0 && s % cornerEvery == 0 ? (rng.uniform() < 0.5 ? 0.0 : 1.0)
                                                             : rng.uniform();
    x[i] = std::clamp(box.lo[i] + t * (box.hi[i] - box.lo[i]), box.lo[i], box.hi[i]);
  }
  return x;
}

/// Up to `count` neurons of the ReLU layers that are unstable in `nb` (lo < 0 < hi), each split
/// to a random phase: per split, one draw picks the neuron among those left, one its phase.
inline verifier::Splits randomPhaseSplits(Rng& rng, const neural::AffineNet& net,
                                          const verifier::NetBounds& nb, int count) {
  std::vector<std::pair<size_t, Eigen::Index>> unstable;
  for (size_t k = 0; k < net.layers.size(); ++k)
    if (net.layers[k].relu)
      for (Eigen::Index j = 0; j < nb.lo[k].size(); ++j)
        if (nb.lo[k][j] < 0 && nb.hi[k][j] > 0) unstable.emplace_back(k, j);
  verifier::Splits splits(net.layers.size());
  for (int c = 0; c < count && !unstable.empty(); ++c) {
    const size_t i = std::min(unstable.size() - 1,
                              static_cast<size_t>(rng.uniform() * static_cast<double>(unstable.size())));
    const size_t k = unstable[i].first;
    const Eigen::Index j = unstable[i].second;
    unstable.erase(unstable.begin() + static_cast<std::ptrdiff_t>(i));
    if (splits[k].empty()) splits[k].assign(static_cast<size_t>(nb.lo[k].size()), 0);
    splits[k][static_cast<size_t>(j)] = rng.uniform() < 0.5 ? 1 : -1;
  }
  return splits;
}

/// Whether the pre-activations `pre` (preActivations) lie in the sub-domain of `splits`: every
/// neuron split active is >= 0, every one split inactive <= 0.
inline bool satisfiesSplits(const verifier::Splits& splits, const std::vector<Eigen::VectorXd>& pre) {
  for (size_t k = 0; k < splits.size(); ++k)
    for (size_t j = 0; j < splits[k].size(); ++j) {
      const double h = pre[k][static_cast<Eigen::Index>(j)];
      if ((splits[k][j] > 0 && h < 0) || (splits[k][j] < 0 && h > 0)) return false;
    }
  return true;
}

/// The pre-activations h_k = W_k z_{k-1} + b_k of every layer at x (z_k = relu(h_k) on ReLU
/// layers).
inline std::vector<Eigen::VectorXd> preActivations(const neural::AffineNet& net,
                                                   const Eigen::VectorXd& x) {
  std::vector<Eigen::VectorXd> pre;
  Eigen::VectorXd z = x;
  for (const auto& L : net.layers) {
    Eigen::VectorXd h = L.W * z + L.b;
    pre.push_back(h);
    z = L.relu ? Eigen::VectorXd(h.cwiseMax(0.0)) : h;
  }
  return pre;
}

/// Z3's exact verdict on case `cs` over its box (30 s): true when it is violated, false when it
/// holds, nullopt when Z3 timed out (no reference verdict).
inline std::optional<bool> z3ViolatedReference(const neural::AffineNet& net,
                                               const verifier::CaseSpec& cs) {
  verifier::Z3Encoder z3(net);
  const verifier::LeafResult ref =
      z3.solveDomain(cs, cs.box, verifier::symbolicBounds(net, cs.box), 30);
  if (ref.status == verifier::Verdict::Unknown) return std::nullopt;
  return ref.status == verifier::Verdict::Violated;
}

/// A case over `box` whose unsafe set contains x: m rows of N(0, 1) entries (drawn row by row),
/// each satisfied at net(x) with slack `slack` times the row's scale (the sum of its absolute
/// entries).
inline verifier::CaseSpec caseUnsafeAt(Rng& rng, const neural::AffineNet& net,
                                       const verifier::Box& box, const Eigen::VectorXd& x, int m,
                                       double slack) {
  const int o = net.outputSize();
  const Eigen::VectorXd y = net.forward(x);
  verifier::CaseSpec cs;
  cs.box = box;
  cs.C.resize(m, o);
  cs.d.resize(m);
  for (int j = 0; j < m; ++j) {
    for (int k = 0; k < o; ++k)
      cs.C(j, k) = rng.normal();
    cs.d[j] = cs.C.row(j).dot(y) + slack * cs.C.row(j).cwiseAbs().sum();
  }
  return cs;
}

/// Where propertyNearMinimum puts the right-hand side rhs of c y <= rhs: with lb a sound lower
/// bound of c y on the box (CROWN) and `seen` the least value of c y at `samples` points of the
/// box (pointOrCorner with `cornerEvery`), rhs = lb + f (seen - lb) with f uniform in
/// [from, to). The true minimum lies between lb and seen, so both verdicts occur.
struct NearMinimum {
  int samples = 40;
  int cornerEvery = 0;
  double from = 0.1;
  double to = 1.1;
};

/// One case c y <= rhs over a random box (randomBox of `width`), c a row of N(0, 1) entries, rhs
/// near the minimum of c y on the box as `nm` says; drawn in that order (the box, c, the sampled
/// points, f).
inline spec::VnnProperty propertyNearMinimum(Rng& rng, const neural::AffineNet& net, double width,
                                             const NearMinimum& nm = {}) {
  spec::VnnProperty p;
  p.numInputs = net.inputSize;
  p.numOutputs = net.outputSize();
  spec::VnnCase vc;
  const verifier::Box box = randomBox(rng, net.inputSize, width);
  for (int i = 0; i < net.inputSize; ++i) {
    vc.lo.push_back(box.lo[i]);
    vc.hi.push_back(box.hi[i]);
  }
  spec::OutputConstraint oc;
  oc.coef.assign(static_cast<size_t>(p.numOutputs), 0.0);
  for (auto& v : oc.coef) v = rng.normal();
  const Eigen::VectorXd cv = Eigen::Map<Eigen::VectorXd>(oc.coef.data(), p.numOutputs);
  double seen = INFINITY;
  for (int s = 0; s < nm.samples; ++s)
    seen = std::min(seen, cv.dot(net.forward(pointOrCorner(rng, box, s, nm.cornerEvery))));
  const Eigen::MatrixXd crow = cv.transpose();
  const double lb =
      verifier::outputLowerBound(net, box, verifier::symbolicBounds(net, box), crow).lower[0];
  oc.rhs = lb + (nm.from + (nm.to - nm.from) * rng.uniform()) * (seen - lb);
  vc.constraints.push_back(oc);
  p.cases.push_back(vc);
  return p;
}

/// The engine's options for ReLU splitting (no input splitting) with its bounds alone deciding:
/// no attack, no Z3 leaves, no LP leaves, at most 40 splits deep; `timeoutSec` as given.
inline verifier::NetVerifyOptions boundsAloneReluSplitting(double timeoutSec) {
  verifier::NetVerifyOptions o;
  o.timeoutSec = timeoutSec;
  o.inputSplitMaxDim = 0;
  o.attack = false;
  o.leafMaxNeurons = 0;
  o.lp = false;
  o.maxDepth = 40;
  return o;
}

/// A random dense ReLU net with a property near the exact minimum of a random row of its outputs,
/// and Z3's verdict on it.
struct NetNearMinimum {
  neural::AffineNet net;
  spec::VnnProperty prop;
  verifier::CaseSpec cs; // the property's one case
  /// Z3's exact verdict (30 s): true when violated, false when it holds, nullopt when Z3 timed
  /// out (no reference verdict).
  std::optional<bool> z3Violated;
};

/// randomReluNet(rng, in, hidden, width, 2 outputs, gain 1.5, bias sd 0.3), then
/// propertyNearMinimum over a box of width 0.5 as `nm` says, then Z3's verdict on its case.
inline NetNearMinimum netNearMinimumWithZ3(Rng& rng, int in, int hidden, int width,
                                           const NearMinimum& nm = {}) {
  NetNearMinimum c;
  c.net = randomReluNet(rng, in, hidden, width, 2, 1.5, 0.3);
  c.prop = propertyNearMinimum(rng, c.net, 0.5, nm);
  c.cs = verifier::toCaseSpec(c.prop.cases[0], c.prop.numOutputs);
  c.z3Violated = z3ViolatedReference(c.net, c.cs);
  return c;
}

/// Checks the engine's answer `r` on `c` (whose Z3 verdict is known: throws if not) against Z3: a violated
/// verdict's point must replay in float64, and a decided verdict must be Z3's (else a failed
/// check, counted in `wrong`). Returns whether `r` decided (holds or violated).
inline bool checkAgainstZ3(const verifier::VerifyResult& r, const NetNearMinimum& c, int& wrong) {
  if (r.verdict == verifier::Verdict::Violated) CHECK(verifier::replays(c.net, c.cs, r.x));
  if (r.verdict != verifier::Verdict::Violated && r.verdict != verifier::Verdict::Holds)
    return false;
  if ((r.verdict == verifier::Verdict::Violated) != c.z3Violated.value()) {
    ++wrong;
    FAIL_CHECK("disagreement with Z3");
  }
  return true;
}

} // namespace chassis::testing
