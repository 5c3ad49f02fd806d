// Lazy phase splitting with certified LPs (see exact_leaf.h).
#include "verifier/exact_leaf.h"

#include "verifier/cancellation.h"
#include "verifier/lp_relaxation.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

namespace chassis::verifier {
namespace {

/// nb with the phases applied (h >= 0 or h <= 0) and, when `fresh` is given, intersected with
/// it; infeasible when some neuron's interval empties.
NetBounds phaseBounds(const neural::AffineNet& net, const NetBounds& nb, const Splits& splits,
                      const NetBounds* fresh) {
  NetBounds out = nb;
  if (fresh && fresh->infeasible) {
    out.infeasible = true;
    return out;
  }
  if (fresh && fresh->lo.size() != nb.lo.size()) fresh = nullptr;
  for (size_t k = 0; k < net.layers.size(); ++k) {
    for (Eigen::Index j = 0; j < out.lo[k].size(); ++j) {
      double& l = out.lo[k][j];
      double& u = out.hi[k][j];
      if (fresh) {
        l = std::max(l, fresh->lo[k][j]);
        u = std::min(u, fresh->hi[k][j]);
      }
      if (k < splits.size() && !splits[k].empty()) {
        if (splits[k][static_cast<size_t>(j)] > 0) l = std::max(l, 0.0);
        if (splits[k][static_cast<size_t>(j)] < 0) u = std::min(u, 0.0);
      }
      if (l > u) {
        out.infeasible = true;
        return out;
      }
    }
  }
  return out;
}

} // namespace

ExactLeafResult exactLeaf(const neural::AffineNet& net, const CaseSpec& cs, const Box& box,
                          const NetBounds& nb, const ExactLeafOptions& opt,
                          const WeightProducts* wp) {
  ExactLeafResult res;
  const int L = static_cast<int>(net.layers.size());
  if (nb.infeasible) {
    res.status = Verdict::Holds;
    return res;
  }
  std::vector<Splits> stack(1);
  while (!stack.empty()) {
    pollCancellation();
    Splits splits = std::move(stack.back());
    stack.pop_back();
    NetBounds node;
    if (splits.empty()) {
      node = nb;
    } else if (opt.rebound) {
      NetBounds fresh = symbolicBounds(net, box, splits, wp);
      node = phaseBounds(net, nb, splits, &fresh);
    } else {
      node = phaseBounds(net, nb, splits, nullptr);
    }
    if (node.infeasible) continue; // no input of the box has these phases
    if (res.lps >= opt.maxLps) {
      res.reason = "the exact leaf's budget of " + std::to_string(opt.maxLps) + " LPs ran out";
      return res;
    }
    std::unique_ptr<LpRelaxation> lpPtr =
        opt.compact ? std::make_unique<LpRelaxation>(net, box, node, LpRelaxation::Compact{})
                    : std::make_unique<LpRelaxation>(net, box, node);
    LpRelaxation& lp = *lpPtr;
    if (!lp.ok()) {
      res.reason = "exact leaf: " + lp.whyNot();
      return res;
    }
    LpCaseResult r = lp.caseMargin(cs.C, cs.d, opt.lpTimeLimit);
    ++res.lps;
    if (r.solved && r.certified > 0) continue; // certified: no input of these phases violates
    if (r.x.size() == box.lo.size() && replays(net, cs, r.x)) {
      res.status = Verdict::Violated;
      res.x = r.x;
      return res;
    }
    // The unstable ReLU to split: the triangle's use at the LP optimum, z - relu(h) (0 where
    // the relaxation is exact there), ties to the larger triangle.
    int bk = -1;
    Eigen::Index bj = -1;
    double best = -1, bestArea = -1;
    bool activeFirst = true;
    const bool havePoint = r.primal.size() >= static_cast<size_t>(lp.columns());
    for (int k = 0; k < L; ++k) {
      if (!net.layers[static_cast<size_t>(k)].relu) continue;
      for (Eigen::Index j = 0; j < node.lo[k].size(); ++j) {
        const double l = node.lo[k][j], u = node.hi[k][j];
        if (!(l < 0 && u > 0)) continue;
        const double area = -l * u / (u - l);
        double gap = 0, h = 0;
        const int zc = lp.zColumn(k, j), hc = lp.hColumn(k, j);
        if (havePoint && zc >= 0 && hc >= 0) {
          h = r.primal[static_cast<size_t>(hc)];
          gap = r.primal[static_cast<size_t>(zc)] - std::max(h, 0.0);
        }
        if (gap > best || (gap == best && area > bestArea)) {
          best = gap;
          bestArea = area;
          bk = k;
          bj = j;
          activeFirst = h >= 0;
        }
      }
    }
    if (bk < 0) {
      res.reason = r.solved ? "exact leaf: a phase pattern's LP point violates the case by " +
                                  std::to_string(-r.lpValue) + " but does not replay in float64"
                            : "exact leaf: " + r.reason;
      return res;
    }
    Splits act = splits, inact;
    if (act.empty()) act.resize(static_cast<size_t>(L));
    if (act[static_cast<size_t>(bk)].empty())
      act[static_cast<size_t>(bk)].assign(static_cast<size_t>(node.lo[bk].size()), 0);
    inact = act;
    act[static_cast<size_t>(bk)][static_cast<size_t>(bj)] = 1;
    inact[static_cast<size_t>(bk)][static_cast<size_t>(bj)] = -1;
    // Depth first, the LP point's side on top (popped first).
    if (activeFirst) {
      stack.push_back(std::move(inact));
      stack.push_back(std::move(act));
    } else {
      stack.push_back(std::move(act));
      stack.push_back(std::move(inact));
    }
  }
  res.status = Verdict::Holds;
  return res;
}

} // namespace chassis::verifier
