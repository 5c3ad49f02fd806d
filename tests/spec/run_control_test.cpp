// spec/run_control.h: the stop flag's first reason wins, a passed deadline is a timeout stop,
// a memory limit below the process's resident size is a memory stop, checkStop throws, and the
// watcher calls the registered hooks while a stop is requested (not before, not after their
// removal). Conditions the watcher sets are awaited with a generous bound, never timed.
#include <catch2/catch.hpp>

#include "spec/run_control.h"

#include <atomic>
#include <chrono>
#include <limits>
#include <thread>

using namespace chassis::run;

namespace {

/// Waits (up to 30 s) for `cond`; true when it came.
template <typename F> bool eventually(F cond) {
  for (int i = 0; i < 3000; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

} // namespace

TEST_CASE("without a session nothing stops and there is no deadline", "[run-control]") {
  CHECK(stopReason() == StopReason::None);
  CHECK_NOTHROW(checkStop());
  CHECK(remainingSeconds() == std::numeric_limits<double>::infinity());
  CHECK(stepBudgetSeconds(5) == 5);
  CHECK(memoryLimitBytes() == 0);
}

TEST_CASE("the first stop reason wins and checkStop throws it", "[run-control]") {
  RunSession session(Limits{}, false);
  CHECK_FALSE(stopRequested());
  requestStop(StopReason::Memory);
  requestStop(StopReason::Interrupted);
  CHECK(stopReason() == StopReason::Memory);
  CHECK(stopReasonName(stopReason()) == "memory");
  CHECK(stepBudgetSeconds(5) == 0);
  try {
    checkStop();
    FAIL("checkStop did not throw");
  } catch (const Stopped& s) {
    CHECK(s.reason == StopReason::Memory);
  }
}

TEST_CASE("a new session starts unstopped", "[run-control]") {
  RunSession session(Limits{}, false);
  CHECK(stopReason() == StopReason::None);
}

TEST_CASE("a passed deadline is a timeout stop", "[run-control]") {
  RunSession session(Limits{0.05, 0}, false);
  CHECK(remainingSeconds() <= 0.05);
  CHECK(stepBudgetSeconds(100) <= 0.05);
  REQUIRE(eventually([] { return stopRequested(); }));
  CHECK(stopReason() == StopReason::Timeout);
  CHECK(remainingSeconds() == 0);
  CHECK(stopMessage() == "time limit of 0.05 s reached");
}

TEST_CASE("a memory limit below the resident size is a memory stop", "[run-control]") {
  REQUIRE(residentBytes() > (1u << 20)); // /proc/self/statm is read
  RunSession session(Limits{0, 1}, false);
  CHECK(memoryLimitBytes() == (1u << 20));
  REQUIRE(eventually([] { return stopRequested(); }));
  CHECK(stopReason() == StopReason::Memory);
  CHECK(stopMessage().rfind("memory limit of 1 MiB reached (resident ", 0) == 0);
}

TEST_CASE("hooks are called while a stop is requested, and not once removed", "[run-control]") {
  RunSession session(Limits{}, false);
  std::atomic<int> calls{0};
  {
    StopHook hook([&] { ++calls; });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(calls == 0); // no stop yet
    requestStop(StopReason::Interrupted);
    REQUIRE(eventually([&] { return calls >= 2; })); // repeatedly, for queries started later
  }
  int after = calls;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(calls == after);
}

TEST_CASE("a session's end clears its stop", "[run-control]") {
  {
    RunSession session(Limits{}, false);
    requestStop(StopReason::Timeout);
    CHECK(stopRequested());
  }
  CHECK_FALSE(stopRequested());
}

TEST_CASE("an allocation that would pass the memory limit stops before it is made",
          "[run-control]") {
  CHECK_FALSE(wouldExceedMemory(std::size_t(1) << 40)); // no session: no limit
  RunSession session(Limits{0, 1e6}, false);              // 1 TiB: far above this process
  CHECK_FALSE(wouldExceedMemory(1 << 20));
  CHECK_FALSE(stopRequested());
  CHECK(wouldExceedMemory(std::size_t(1) << 41));
  CHECK(stopReason() == StopReason::Memory);
  CHECK(stopMessage().find("an allocation would make it") != std::string::npos);
}
