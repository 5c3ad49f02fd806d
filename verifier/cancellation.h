// Cancellation inside one bound computation. The network engine's loops check their deadline
// between sub-domains, but a single bound computation on a network of thousands of ReLUs over
// thousands of inputs (a back-substitution per unstable neuron, alpha-CROWN's iterations) can
// take tens of seconds; without a check inside it, `--timeout` and an interrupt would wait for it.
//
// A CancelScope, opened by a thread that runs such computations (the search's workers), names a
// deadline and an optional stop flag; the bound code calls pollCancellation() between its steps
// (a layer's products, a block of neurons, an optimisation iteration), which throws Cancelled once
// the deadline has passed, the flag is set or the run is asked to stop (spec/run_control.h). The
// scope's owner catches Cancelled and treats the domain as not decided. A computation cut short
// this way yields no bound at all, so soundness is untouched. Without an open scope on the
// calling thread pollCancellation() does nothing: library callers and tests run as before.
#pragma once

#include "spec/run_control.h"

#include <atomic>
#include <chrono>
#include <exception>

namespace chassis::verifier {

/// Thrown by pollCancellation() inside an open CancelScope.
struct Cancelled : std::exception {
  const char* what() const noexcept override { return "bound computation cancelled"; }
};

class CancelScope {
public:
  using Clock = std::chrono::steady_clock;
  CancelScope(Clock::time_point deadline, const std::atomic<bool>* stop)
      : deadline_(deadline), stop_(stop), outer_(current()) {
    current() = this;
  }
  ~CancelScope() { current() = outer_; }
  CancelScope(const CancelScope&) = delete;
  CancelScope& operator=(const CancelScope&) = delete;

  bool expired() const {
    return (stop_ && stop_->load(std::memory_order_relaxed)) || Clock::now() >= deadline_ ||
           run::stopRequested();
  }
  /// The innermost open scope of this thread, or null.
  static CancelScope*& current() {
    thread_local CancelScope* scope = nullptr;
    return scope;
  }

private:
  Clock::time_point deadline_;
  const std::atomic<bool>* stop_;
  CancelScope* outer_;
};

/// Throws Cancelled when this thread's open scope has expired; nothing without a scope.
inline void pollCancellation() {
  if (CancelScope* s = CancelScope::current(); s && s->expired()) throw Cancelled();
}

} // namespace chassis::verifier
