// Z3 queries under the run's overall limits (see z3_limits.h).
#include "verifier/z3_limits.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>

namespace chassis::verifier {

void applyQueryLimits(z3::solver& s, z3::context& c, double perQuerySec) {
  z3::params p(c);
  double budget = run::stepBudgetSeconds(perQuerySec);
  // Z3's own SIGINT handler (installed around each check when ctrl_c is on) would swallow the
  // signal and end only that query: the run's handler takes it instead.
  p.set("ctrl_c", false);
  if (std::isfinite(budget)) p.set("timeout", unsigned(std::clamp(budget * 1000, 1.0, 4.0e9)));
  s.set(p);
  // Z3's own allocations beyond the watermark make its queries give up (unknown), a softer stop
  // than the watcher's interrupt; set once per limit (a global parameter).
  static std::atomic<std::size_t> watermarkSet{0};
  std::size_t lim = run::memoryLimitBytes();
  if (lim > 0 && watermarkSet.exchange(lim) != lim) {
    std::string mb = std::to_string(std::max<std::size_t>(1, lim >> 20));
    Z3_global_param_set("memory_high_watermark", mb.c_str());
  }
}

} // namespace chassis::verifier
