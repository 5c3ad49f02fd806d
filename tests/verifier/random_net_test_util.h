// Test helper shared by the verifier tests that need random ReLU networks drawn from chassis::Rng:
// `in` inputs, `hidden` ReLU layers of `width` units, `out` outputs; each weight
// N(0, (gain / sqrt(fan_in))^2) and each bias N(0, biasSd^2), drawn in row order (weights, then
// the bias) so a seed gives the same network. Also a random box and the pre-activations of every
// layer at a point, shared by the bound tests.
#pragma once

#include "neural/affine_net.h"
#include "spec/rng.h"
#include "verifier/bounds.h"
#include "verifier/problem.h"
#include "verifier/z3_encoder.h"

#include <cmath>
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

} // namespace chassis::testing
