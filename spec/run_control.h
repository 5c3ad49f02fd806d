// Run control for long jobs: an overall deadline, a memory limit, and a process-wide "stop
// requested" flag with its reason (interrupted by SIGINT/SIGTERM, time limit reached, memory
// limit reached). The driver installs one RunSession for the length of a command; the long loops
// (the verifier's property loop and branch and bound, the samplers, training, compare) poll
// `stopRequested()` / `checkStop()`, and whatever cannot poll (a running Z3 query) registers a
// StopHook that the watcher thread calls (Z3_interrupt is safe from another thread).
//
// The signal handler only stores the signal number (async-signal-safe); a second SIGINT/SIGTERM
// while the first is being handled ends the process at once with _exit(128 + signal).
// The watcher thread polls every 10 ms: the signal flag, the deadline, and the resident set size
// (/proc/self/statm) against the memory limit; the first reason found wins and is never
// replaced. While a stop is requested it calls every registered hook on each tick, so a query
// started after the stop is interrupted too.
//
// Without a RunSession nothing is ever stopped and there is no deadline (library code and unit
// tests run unchanged).
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

namespace chassis::run {

enum class StopReason : int { None = 0, Interrupted, Timeout, Memory };

/// "interrupted", "timeout", "memory" ("" for None): the word shown for what a stop cut short.
std::string_view stopReasonName(StopReason r);

struct Limits {
  double timeLimitSec = 0; // overall wall-clock budget from the session's start; <= 0: none
  double memoryMb = 0;     // resident set size limit in MiB; <= 0: none
};

/// Installs the limits, the SIGINT/SIGTERM handlers (unless handleSignals is false) and the
/// watcher thread; the destructor stops the watcher, restores the previous handlers and clears
/// the stop. One session at a time.
class RunSession {
public:
  explicit RunSession(const Limits& limits, bool handleSignals = true);
  ~RunSession();
  RunSession(const RunSession&) = delete;
  RunSession& operator=(const RunSession&) = delete;
};

/// Thrown by checkStop(); the driver turns it into the stop's exit code.
struct Stopped : std::runtime_error {
  explicit Stopped(StopReason r);
  StopReason reason;
};

/// The reason of a requested stop, None while the run may go on (a passed deadline requests the
/// timeout stop here). Cheap (atomic loads and a clock read), safe from any thread.
StopReason stopReason();
inline bool stopRequested() {
  return stopReason() != StopReason::None;
}

/// Requests a stop (the first reason wins). Safe from any thread.
void requestStop(StopReason r);

/// Throws Stopped when a stop is requested.
void checkStop();

/// A one-line explanation: "interrupted (SIGINT)", "time limit of 2 s reached",
/// "memory limit of 100 MiB reached (resident 123 MiB)".
std::string stopMessage();

/// The signal that interrupted the run (SIGINT or SIGTERM), 0 when none did.
int stopSignal();

/// Seconds left before the deadline; +infinity without one, 0 once passed.
double remainingSeconds();

/// The budget for one step with its own limit `perStepSec` (<= 0: none): the smaller of it and
/// remainingSeconds(); 0 when stopped. +infinity when neither limits it.
double stepBudgetSeconds(double perStepSec);

/// The memory limit in bytes, 0 without one.
std::size_t memoryLimitBytes();

/// For a large allocation about to be made: true, and a memory stop requested, when the resident
/// set size plus `bytes` would exceed the memory limit (false without a limit). The watcher
/// would see such an allocation only after it is made.
bool wouldExceedMemory(std::size_t bytes);

/// This process's resident set size in bytes (from /proc/self/statm), 0 if unreadable.
std::size_t residentBytes();

/// Registers `fn`, called from the watcher thread on every tick while a stop is requested
/// (so it must be safe to call from another thread, repeatedly). Unregistered by the destructor,
/// which waits for a running call to finish: destroy the hook before what `fn` refers to.
class StopHook {
public:
  explicit StopHook(std::function<void()> fn);
  ~StopHook();
  StopHook(const StopHook&) = delete;
  StopHook& operator=(const StopHook&) = delete;

private:
  std::size_t id_;
};

} // namespace chassis::run
