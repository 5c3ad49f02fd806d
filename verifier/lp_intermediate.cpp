// Intermediate bounds by certified LP (see lp_intermediate.h).
#include "verifier/lp_intermediate.h"

#include "verifier/lp_relaxation.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

namespace chassis::verifier {

namespace {

int unstableIn(const NetBounds& nb, int k) {
  int n = 0;
  for (Eigen::Index j = 0; j < nb.lo[static_cast<size_t>(k)].size(); ++j)
    if (nb.lo[k][j] < 0 && nb.hi[k][j] > 0) ++n;
  return n;
}

} // namespace

LpTightenStats tightenLayerByLp(const neural::AffineNet& net, const Box& box, NetBounds& nb,
                                int k, std::chrono::steady_clock::time_point deadline,
                                int threads) {
  LpTightenStats st;
  if (nb.infeasible || k < 0 || k >= static_cast<int>(net.layers.size()) ||
      static_cast<int>(nb.lo.size()) != static_cast<int>(net.layers.size()) ||
      !net.layers[static_cast<size_t>(k)].relu)
    return st;
  st.unstableBefore = st.unstableAfter = unstableIn(nb, k);
  if (st.unstableBefore == 0) return st;
  // The neurons in decreasing triangle area: the loosest relaxations first if time runs out.
  std::vector<std::pair<double, Eigen::Index>> order;
  for (Eigen::Index j = 0; j < nb.lo[k].size(); ++j) {
    const double l = nb.lo[k][j], u = nb.hi[k][j];
    if (l < 0 && u > 0) order.push_back({-l * u / (u - l), j});
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  LpRelaxation lp(net, box, nb);
  if (!lp.ok()) return st;
  std::vector<LpRelaxation::ColumnTask> tasks;
  for (const auto& o : order) {
    const int col = lp.hColumn(k, o.second);
    tasks.push_back({col, false});
    tasks.push_back({col, true});
  }
  st.tasks = static_cast<int>(tasks.size());
  std::vector<double> out(tasks.size());
  for (size_t t = 0; t < tasks.size(); ++t) out[t] = tasks[t].upper ? INFINITY : -INFINITY;
  std::atomic<size_t> next{0};
  std::atomic<int> solves{0};
  auto work = [&] { solves += lp.boundColumns(tasks, next, out, deadline); };
  std::vector<std::thread> pool;
  const int extra = std::max(0, std::min(threads, static_cast<int>(order.size())) - 1);
  for (int i = 0; i < extra; ++i) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  st.layers = 1;
  st.solves = solves.load();
  for (size_t i = 0; i < order.size(); ++i) {
    const Eigen::Index j = order[i].second;
    const double lo = out[2 * i], hi = out[2 * i + 1];
    if (std::isfinite(lo)) ++st.solved;
    if (std::isfinite(hi)) ++st.solved;
    if (lo > nb.lo[k][j]) {
      nb.lo[k][j] = lo;
      ++st.tightened;
    }
    if (hi < nb.hi[k][j]) {
      nb.hi[k][j] = hi;
      ++st.tightened;
    }
    if (nb.lo[k][j] > nb.hi[k][j]) nb.infeasible = true;
  }
  st.complete = st.solved == st.tasks;
  st.unstableAfter = unstableIn(nb, k);
  return st;
}

LpTightenStats tightenLastLayersByLp(const neural::AffineNet& net, const Box& box, NetBounds& nb,
                                     int layers, std::chrono::steady_clock::time_point deadline,
                                     int threads) {
  std::vector<int> last; // bottom up
  for (int k = static_cast<int>(net.layers.size()) - 1; k >= 1; --k)
    if (net.layers[static_cast<size_t>(k)].relu && static_cast<int>(last.size()) < layers)
      last.insert(last.begin(), k);
  LpTightenStats all;
  for (size_t i = 0; i < last.size() && !nb.infeasible; ++i) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      all.complete = false;
      break;
    }
    const auto share = (deadline - now) / static_cast<long>(last.size() - i);
    const LpTightenStats st = tightenLayerByLp(net, box, nb, last[i], now + share, threads);
    all.layers += st.layers;
    all.tasks += st.tasks;
    all.solved += st.solved;
    all.solves += st.solves;
    all.tightened += st.tightened;
    all.unstableBefore += st.unstableBefore;
    all.unstableAfter += st.unstableAfter;
    all.complete = all.complete && st.complete;
  }
  return all;
}

} // namespace chassis::verifier
