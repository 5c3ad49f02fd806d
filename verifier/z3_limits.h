// Z3 queries under the run's overall limits (spec/run_control.h): each query's timeout is the
// smaller of its own and the time left in the run, the memory limit becomes Z3's high watermark,
// and while a query runs a stop request (SIGINT, time or memory limit) interrupts it.
#pragma once

#include "spec/run_control.h"

#include <z3++.h>

namespace chassis::verifier {

/// Sets s's timeout to run::stepBudgetSeconds(perQuerySec) (1 ms once stopped; none when
/// neither limits it), turns Z3's own Ctrl-C handler off
/// (the run's takes SIGINT) and, with a memory limit, sets Z3's memory high watermark.
void applyQueryLimits(z3::solver& s, z3::context& c, double perQuerySec);

/// While in scope, a stop request interrupts every query running in `c` (Z3_interrupt, from the
/// run-control watcher thread). Declare it after the context it refers to.
class Z3StopGuard {
public:
  explicit Z3StopGuard(z3::context& c) : hook_([&c] { c.interrupt(); }) {}

private:
  run::StopHook hook_;
};

/// The stop's word ("interrupted", "timeout", "memory") when a stop is requested, else "".
inline std::string stopWord() {
  return std::string(run::stopReasonName(run::stopReason()));
}

} // namespace chassis::verifier
