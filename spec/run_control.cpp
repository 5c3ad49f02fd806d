// Run control: the process-wide stop flag, deadline, memory limit and watcher (see run_control.h).
#include "spec/run_control.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

namespace chassis::run {

namespace {

using Clock = std::chrono::steady_clock;

static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free int");

std::atomic<int> gReason{0};            // StopReason
volatile std::sig_atomic_t gSignal = 0; // the signal that requested the stop
std::atomic<bool> gHaveDeadline{false};
std::atomic<Clock::rep> gDeadline{0};  // Clock ticks since the clock's epoch
std::atomic<std::size_t> gMemLimit{0}; // bytes
std::atomic<std::size_t> gRssAtStop{0};
std::atomic<bool> gRssProjected{false}; // gRssAtStop is what an allocation would have needed
double gTimeLimitSec = 0;

std::mutex gHooksMu;
std::map<std::size_t, std::function<void()>> gHooks;
std::size_t gNextHook = 1;

extern "C" void onStopSignal(int sig) {
  // Async-signal-safe only: lock-free atomics, a sig_atomic_t and _exit.
  if (gSignal != 0) _exit(128 + sig); // the second signal: the user insists
  gSignal = sig;
  int none = 0;
  gReason.compare_exchange_strong(none, int(StopReason::Interrupted));
}

bool deadlinePassed() {
  return gHaveDeadline.load(std::memory_order_relaxed) &&
         Clock::now().time_since_epoch().count() >= gDeadline.load(std::memory_order_relaxed);
}

void callHooks() {
  std::lock_guard<std::mutex> lk(gHooksMu);
  for (auto& [id, fn] : gHooks)
    fn();
}

struct Watcher {
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  bool quit = false;
  struct sigaction oldInt {
  }, oldTerm{};
  bool handlers = false;
};
Watcher* gWatcher = nullptr;

void watch(Watcher& w) {
  std::unique_lock<std::mutex> lk(w.mu);
  while (!w.quit) {
    w.cv.wait_for(lk, std::chrono::milliseconds(10));
    if (w.quit) break;
    lk.unlock();
    if (deadlinePassed()) requestStop(StopReason::Timeout);
    if (std::size_t lim = gMemLimit.load(); lim > 0) {
      std::size_t rss = residentBytes();
      if (rss > lim) {
        if (!stopRequested()) gRssAtStop = rss;
        requestStop(StopReason::Memory);
      }
    }
    if (stopRequested()) callHooks();
    lk.lock();
  }
}

} // namespace

std::string_view stopReasonName(StopReason r) {
  switch (r) {
  case StopReason::Interrupted:
    return "interrupted";
  case StopReason::Timeout:
    return "timeout";
  case StopReason::Memory:
    return "memory";
  case StopReason::None:
    break;
  }
  return "";
}

Stopped::Stopped(StopReason r) : std::runtime_error("stopped: " + stopMessage()), reason(r) {}

RunSession::RunSession(const Limits& limits, bool handleSignals) {
  gReason = 0;
  gSignal = 0;
  gRssAtStop = 0;
  gRssProjected = false;
  gTimeLimitSec = limits.timeLimitSec;
  if (limits.timeLimitSec > 0) {
    auto d = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(limits.timeLimitSec));
    gDeadline = d.time_since_epoch().count();
    gHaveDeadline = true;
  } else {
    gHaveDeadline = false;
  }
  gMemLimit = limits.memoryMb > 0 ? std::size_t(limits.memoryMb * 1024.0 * 1024.0) : 0;
  gWatcher = new Watcher;
  if (handleSignals) {
    struct sigaction sa {};
    sa.sa_handler = onStopSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, &gWatcher->oldInt);
    sigaction(SIGTERM, &sa, &gWatcher->oldTerm);
    gWatcher->handlers = true;
  }
  gWatcher->thread = std::thread([w = gWatcher] { watch(*w); });
}

RunSession::~RunSession() {
  {
    std::lock_guard<std::mutex> lk(gWatcher->mu);
    gWatcher->quit = true;
  }
  gWatcher->cv.notify_all();
  gWatcher->thread.join();
  if (gWatcher->handlers) {
    sigaction(SIGINT, &gWatcher->oldInt, nullptr);
    sigaction(SIGTERM, &gWatcher->oldTerm, nullptr);
  }
  delete gWatcher;
  gWatcher = nullptr;
  gHaveDeadline = false;
  gMemLimit = 0;
  gReason = 0;
  gSignal = 0;
}

StopReason stopReason() {
  // The deadline is checked here too (a clock read), so a loop with its own deadline cut to the
  // run's remaining time sees the run's timeout as soon as it sees its own.
  if (gReason.load(std::memory_order_relaxed) == 0 && deadlinePassed())
    requestStop(StopReason::Timeout);
  return StopReason(gReason.load(std::memory_order_relaxed));
}

void requestStop(StopReason r) {
  int none = 0;
  gReason.compare_exchange_strong(none, int(r));
}

void checkStop() {
  if (StopReason r = stopReason(); r != StopReason::None) throw Stopped(r);
}

std::string stopMessage() {
  char buf[160];
  switch (stopReason()) {
  case StopReason::Interrupted:
    return gSignal == SIGTERM ? "interrupted (SIGTERM)" : "interrupted (SIGINT)";
  case StopReason::Timeout:
    std::snprintf(buf, sizeof buf, "time limit of %g s reached", gTimeLimitSec);
    return buf;
  case StopReason::Memory:
    std::snprintf(buf, sizeof buf, "memory limit of %g MiB reached (%s %.0f MiB)",
                  double(gMemLimit.load()) / (1024.0 * 1024.0),
                  gRssProjected ? "an allocation would make it" : "resident",
                  double(gRssAtStop.load()) / (1024.0 * 1024.0));
    return buf;
  case StopReason::None:
    break;
  }
  return "not stopped";
}

int stopSignal() {
  return stopReason() == StopReason::Interrupted ? int(gSignal) : 0;
}

double remainingSeconds() {
  if (!gHaveDeadline.load(std::memory_order_relaxed))
    return std::numeric_limits<double>::infinity();
  Clock::time_point d{Clock::duration(gDeadline.load(std::memory_order_relaxed))};
  double left = std::chrono::duration<double>(d - Clock::now()).count();
  return left > 0 ? left : 0;
}

double stepBudgetSeconds(double perStepSec) {
  if (stopRequested()) return 0;
  double left = remainingSeconds();
  return perStepSec > 0 && perStepSec < left ? perStepSec : left;
}

std::size_t memoryLimitBytes() {
  return gMemLimit.load(std::memory_order_relaxed);
}

bool wouldExceedMemory(std::size_t bytes) {
  std::size_t lim = gMemLimit.load();
  if (lim == 0) return false;
  std::size_t need = residentBytes() + bytes;
  if (need <= lim) return false;
  if (!stopRequested()) {
    gRssAtStop = need;
    gRssProjected = true;
  }
  requestStop(StopReason::Memory);
  return true;
}

std::size_t residentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long size = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return std::size_t(resident) * std::size_t(::sysconf(_SC_PAGESIZE));
}

StopHook::StopHook(std::function<void()> fn) {
  std::lock_guard<std::mutex> lk(gHooksMu);
  id_ = gNextHook++;
  gHooks.emplace(id_, std::move(fn));
}

StopHook::~StopHook() {
  std::lock_guard<std::mutex> lk(gHooksMu);
  gHooks.erase(id_);
}

} // namespace chassis::run
