// Test helper shared by the verifier tests that need random ReLU networks drawn from chassis::Rng:
// `in` inputs, `hidden` ReLU layers of `width` units, `out` outputs; each weight
// N(0, (gain / sqrt(fan_in))^2) and each bias N(0, biasSd^2), drawn in row order (weights, then
// the bias) so a seed gives the same network.
#pragma once

#include "neural/affine_net.h"
#include "spec/rng.h"

#include <cmath>
#include <utility>

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

} // namespace chassis::testing
