// Independent jobs on MPI ranks (tools/mpi_jobs.h).
#include "tools/mpi_jobs.h"

#include "spec/run_control.h"
#include "tools/mpi_world.h"

#include <deque>
#include <iostream>
#include <map>
#include <sstream>

namespace chassis::tools {

void runCaptured(const std::function<void()>& job, std::string& out, std::string& err) {
  std::ostringstream outText, errText;
  std::streambuf* outBuf = std::cout.rdbuf(outText.rdbuf());
  std::streambuf* errBuf = std::cerr.rdbuf(errText.rdbuf());
  struct Restore {
    std::streambuf *out, *err;
    ~Restore() {
      std::cout.rdbuf(out);
      std::cerr.rdbuf(err);
    }
  } restore{outBuf, errBuf};
  job();
  out = outText.str();
  err = errText.str();
}

void runJobs(std::span<const size_t> order, const std::function<std::string(size_t)>& run,
             const std::function<bool(size_t, const std::string&, int)>& done) {
  const int n = mpi::worldSize();
  if (mpi::rank() != 0) { // a worker
    while (true) {
      mpi::Message m = mpi::receive(0, -1);
      if (m.tag != mpi::kWork) return;
      mpi::ByteReader rd(m.payload);
      const size_t k = rd.get<uint64_t>();
      mpi::ByteWriter w;
      w.put<uint64_t>(k);
      w.putString(run(k));
      mpi::send(0, mpi::kResult, w.text());
      if (run::stopRequested()) return;
    }
  }
  std::deque<size_t> queue(order.begin(), order.end());
  bool handing = true;
  if (n > 1) {
    std::map<int, size_t> inFlight; // worker -> job
    auto handOut = [&](int worker) {
      if (queue.empty() || !handing || run::stopRequested()) {
        mpi::send(worker, mpi::kNoWork, "");
        mpi::markNoWorkSent(worker);
        return;
      }
      mpi::ByteWriter w;
      w.put<uint64_t>(queue.front());
      inFlight[worker] = queue.front();
      queue.pop_front();
      mpi::send(worker, mpi::kWork, w.text());
    };
    for (int r = 1; r < n; ++r)
      handOut(r);
    while (!inFlight.empty()) {
      mpi::Message m = mpi::receive(-1, -1);
      mpi::ByteReader rd(m.payload);
      if (m.tag == mpi::kFinal) { // the worker's command ended: its job goes back to the queue
        int code = rd.get<int32_t>();
        std::string err = rd.getString();
        mpi::markFinalReceived(m.source, code, err);
        if (auto it = inFlight.find(m.source); it != inFlight.end()) {
          std::cerr << "chassis: warning: rank " << m.source << " ended (exit " << code
                    << ") during a job, which runs again" << (err.empty() ? "\n" : ": " + err);
          queue.push_front(it->second);
          inFlight.erase(it);
        }
        continue;
      }
      if (m.tag != mpi::kResult) continue;
      const size_t k = rd.get<uint64_t>();
      const std::string result = rd.getString();
      inFlight.erase(m.source);
      if (!done(k, result, m.source)) handing = false;
      if (!mpi::finalReceived(m.source)) handOut(m.source);
    }
  }
  // One process, or no worker left: the rest here.
  while (handing && !queue.empty() && !run::stopRequested()) {
    const size_t k = queue.front();
    queue.pop_front();
    handing = done(k, run(k), 0);
  }
}

} // namespace chassis::tools
