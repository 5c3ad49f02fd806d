// Random sampling and PGD inside a box (see attack.h). The PGD step is the signed gradient
// scaled by the box width, with a step size decaying geometrically from 1/4 to 1/100 of the
// width, and projection by clamping to the box.
#include "verifier/attack.h"

#include <cmath>

namespace chassis::verifier {

using Eigen::VectorXd;

std::optional<VectorXd> pgd(const neural::AffineNet& net, const CaseSpec& cs, VectorXd x,
                            int iterations) {
  const VectorXd width = cs.box.hi - cs.box.lo;
  const int L = static_cast<int>(net.layers.size());
  std::vector<VectorXd> masks(L);
  for (int it = 0; it < iterations; ++it) {
    // Forward, remembering which neurons are active.
    VectorXd y = x;
    for (int k = 0; k < L; ++k) {
      VectorXd z = net.layers[k].W * y + net.layers[k].b;
      if (net.layers[k].relu) {
        masks[k] = (z.array() > 0).cast<double>();
        z = z.cwiseMax(0.0);
      }
      y = std::move(z);
    }
    if (cs.C.rows() == 0) return replays(net, cs, x) ? std::optional<VectorXd>(x) : std::nullopt;
    VectorXd v = cs.C * y - cs.d;
    Eigen::Index j;
    v.maxCoeff(&j);
    if (replays(net, cs, x)) return x;
    // Gradient of row j of C y with respect to x.
    Eigen::RowVectorXd g = cs.C.row(j);
    for (int k = L - 1; k >= 0; --k) {
      if (net.layers[k].relu) g = g.cwiseProduct(masks[k].transpose());
      g = g * net.layers[k].W;
    }
    double step = 0.25 * std::pow(0.04, static_cast<double>(it) / std::max(1, iterations - 1));
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      double s = g[i] > 0 ? 1.0 : (g[i] < 0 ? -1.0 : 0.0);
      x[i] = std::clamp(x[i] - step * s * width[i], cs.box.lo[i], cs.box.hi[i]);
    }
  }
  if (replays(net, cs, x)) return x;
  return std::nullopt;
}

std::optional<VectorXd> falsify(const neural::AffineNet& net, const CaseSpec& cs,
                                const AttackOptions& opt, SplitMix& rng,
                                std::chrono::steady_clock::time_point deadline) {
  const Eigen::Index n = cs.box.lo.size();
  auto sample = [&]() {
    VectorXd x(n);
    for (Eigen::Index i = 0; i < n; ++i)
      x[i] = std::clamp(cs.box.lo[i] + rng.uniform() * (cs.box.hi[i] - cs.box.lo[i]),
                        cs.box.lo[i], cs.box.hi[i]);
    return x;
  };
  VectorXd centre = ((cs.box.lo + cs.box.hi) * 0.5).cwiseMax(cs.box.lo).cwiseMin(cs.box.hi);
  if (replays(net, cs, centre)) return centre;
  // Random sampling, keeping the best points as PGD starts.
  std::vector<std::pair<double, VectorXd>> best;
  for (int s = 0; s < opt.samples; ++s) {
    VectorXd x = sample();
    if (replays(net, cs, x)) return x;
    best.emplace_back(violation(net, cs, x), std::move(x));
  }
  std::sort(best.begin(), best.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (int r = 0; r < opt.restarts; ++r) {
    if (std::chrono::steady_clock::now() > deadline) break;
    VectorXd x0 = r == 0 ? centre : (r - 1 < static_cast<int>(best.size()) ? best[r - 1].second
                                                                              : sample());
    if (auto x = pgd(net, cs, x0, opt.iterations)) return x;
  }
  return std::nullopt;
}

} // namespace chassis::verifier
