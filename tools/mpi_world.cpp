// MPI for the `chassis` command (tools/mpi_world.h). Only this file includes Boost.MPI; built
// without CHASSIS_MPI it keeps a world of one and says so.
#include "tools/mpi_world.h"

#include "tools/command.h"

#ifdef CHASSIS_WITH_MPI
#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>
#include <boost/serialization/string.hpp>
#endif

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace chassis::tools::mpi {

namespace {

/// The world size the launcher announced in the environment (1 without one).
int launchedSize() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* v = std::getenv(var)) {
      char* end = nullptr;
      long n = std::strtol(v, &end, 10);
      if (end != v && *end == '\0' && n >= 1 && n < 1000000) return int(n);
    }
  return 1;
}

int launchedRank() {
  for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"})
    if (const char* v = std::getenv(var)) return std::atoi(v);
  return 0;
}

#ifdef CHASSIS_WITH_MPI
/// MPI, initialised on first use when the launcher started more than one process (finalised at
/// exit by the environment's destructor).
struct World {
  boost::mpi::environment env{boost::mpi::threading::funneled};
  boost::mpi::communicator comm;
};
World* world() {
  static std::unique_ptr<World> w = launchedSize() > 1 ? std::make_unique<World>() : nullptr;
  return w.get();
}
#endif

struct Bookkeeping {
  std::set<int> noWork, lost;
  std::map<int, std::pair<int, std::string>> finals;
};
Bookkeeping& books() {
  static Bookkeeping b;
  return b;
}

} // namespace

bool builtIn() {
#ifdef CHASSIS_WITH_MPI
  return true;
#else
  return false;
#endif
}

std::string versionNote() {
#ifdef CHASSIS_WITH_MPI
  return " (MPI: Boost.MPI " + std::to_string(BOOST_VERSION / 100000) + "." +
         std::to_string(BOOST_VERSION / 100 % 1000) + " over MPI " + std::to_string(MPI_VERSION) +
         "." + std::to_string(MPI_SUBVERSION) + "; mpirun -np N runs vnnlib campaigns, one vnnlib " +
         "instance's search and infer chains on N processes)";
#else
  return " (MPI not built in: configure with -DCHASSIS_MPI=ON, which needs libboost-mpi-dev and "
         "openmpi-bin)";
#endif
}

int ranksOnThisHost() {
  for (const char* var : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "PMIX_LOCAL_SIZE"})
    if (const char* v = std::getenv(var)) {
      char* end = nullptr;
      long n = std::strtol(v, &end, 10);
      if (end != v && *end == '\0' && n >= 1 && n < 1000000) return int(n);
    }
  return worldSize();
}

int coresOfThisProcess() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  return int(std::max(1u, std::thread::hardware_concurrency()));
}

bool launchedAsWorker() {
  return launchedSize() > 1 && launchedRank() != 0;
}

int worldSize() {
#ifdef CHASSIS_WITH_MPI
  if (World* w = world()) return w->comm.size();
#endif
  return 1;
}

int rank() {
#ifdef CHASSIS_WITH_MPI
  if (World* w = world()) return w->comm.rank();
#endif
  return 0;
}

void send([[maybe_unused]] int dest, [[maybe_unused]] Tag tag,
          [[maybe_unused]] const std::string& payload) {
#ifdef CHASSIS_WITH_MPI
  if (World* w = world()) {
    w->comm.send(dest, int(tag), payload);
    return;
  }
#endif
  throw std::logic_error("mpi::send in a world of one process");
}

Message receive([[maybe_unused]] int source, [[maybe_unused]] int tag) {
#ifdef CHASSIS_WITH_MPI
  if (World* w = world()) {
    Message m;
    const int from = source < 0 ? boost::mpi::any_source : source;
    const int which = tag < 0 ? boost::mpi::any_tag : tag;
    // Polled with short sleeps: a blocking receive spins a core at 100% in Open MPI, which a
    // rank waiting on a long instance (or its chains) would take from the ranks working.
    for (int waitUs = 50; !w->comm.iprobe(from, which); waitUs = std::min(2 * waitUs, 5000))
      std::this_thread::sleep_for(std::chrono::microseconds(waitUs));
    boost::mpi::status st = w->comm.recv(from, which, m.payload);
    m.source = st.source();
    m.tag = Tag(st.tag());
    return m;
  }
#endif
  throw std::logic_error("mpi::receive in a world of one process");
}

std::optional<Message> tryReceive([[maybe_unused]] int source, [[maybe_unused]] int tag) {
#ifdef CHASSIS_WITH_MPI
  if (World* w = world()) {
    const int from = source < 0 ? boost::mpi::any_source : source;
    const int which = tag < 0 ? boost::mpi::any_tag : tag;
    if (!w->comm.iprobe(from, which)) return std::nullopt;
    Message m;
    boost::mpi::status st = w->comm.recv(from, which, m.payload);
    m.source = st.source();
    m.tag = Tag(st.tag());
    return m;
  }
#endif
  throw std::logic_error("mpi::tryReceive in a world of one process");
}

void markLost(int worker) {
  books().lost.insert(worker);
}
bool isLost(int worker) {
  return books().lost.count(worker) != 0;
}

void markNoWorkSent(int worker) {
  books().noWork.insert(worker);
}
bool noWorkSent(int worker) {
  return books().noWork.count(worker) != 0;
}
void markFinalReceived(int worker, int exitCode, const std::string& stderrText) {
  books().finals[worker] = {exitCode, stderrText};
}
bool finalReceived(int worker) {
  return books().finals.count(worker) != 0 || books().lost.count(worker) != 0;
}

bool distributed(const CLI::App& cmd) {
  const std::string name = cmd.get_name();
  if (name == "vnnlib") // a campaign, or one instance's search (tools/mpi_search.h)
    return cmd.get_option("--instances")->count() > 0 ||
           (cmd.get_option("property")->count() > 0 && cmd.get_option("--naive")->count() == 0 &&
            cmd.get_option("--emit")->count() == 0);
  if (name == "verify") // --all's files, or one file's network-property searches (mpi_search.h);
                        // what writes files (--emit) runs on rank 0 alone
    return cmd.get_option("--all")->count() > 0 ||
           (cmd.get_option("--emit")->count() == 0 && cmd.get_option("--emit-dir")->count() == 0 &&
            cmd.get_option("--out")->count() == 0);
  if (name == "infer") {
    const CLI::Option* m = cmd.get_option("model");
    const std::string model = m->count() ? m->as<std::string>() : std::string();
    return !(model.size() >= 4 && model.compare(model.size() - 4, 4, ".bif") == 0);
  }
  return false;
}

namespace {
/// Discards what is written to it (a worker's standard output).
struct NullBuf : std::streambuf {
  int overflow(int c) override { return c; }
};
NullBuf nullBuf;
std::stringstream workerErr;
} // namespace

CommandScope::CommandScope(const CLI::App& cmd) {
  const std::string name = cmd.get_name();
  const int launched = launchedSize();
  if (launched <= 1) return;
  if (!builtIn()) {
    if (!distributed(cmd)) {
      if (launchedRank() != 0) exit_ = kOk;
      return;
    }
    if (launchedRank() == 0)
      std::cerr << "chassis " << name << ": error: started as " << launched
                << " processes (mpirun), but this chassis has no MPI built in: run it as one "
                   "process, or rebuild with -DCHASSIS_MPI=ON (libboost-mpi-dev, openmpi-bin)\n";
    exit_ = kUsage;
    return;
  }
  if (!distributed(cmd)) {
    if (rank() != 0) exit_ = kOk;
    return;
  }
  active_ = true;
  books() = {};
  if (rank() != 0) {
    out_ = std::cout.rdbuf(&nullBuf);
    err_ = std::cerr.rdbuf(workerErr.rdbuf());
    // What is printed with printf (verify's table) goes nowhere too.
    std::fflush(stdout);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      savedStdout_ = ::dup(STDOUT_FILENO);
      ::dup2(null, STDOUT_FILENO);
      ::close(null);
    }
  }
}

int CommandScope::finish(int rc) {
  if (!active_ || finished_) return rc;
  finished_ = true;
  const int n = worldSize();
  if (rank() != 0) {
    std::cout.flush();
    std::cerr.flush();
    std::cout.rdbuf(out_);
    std::cerr.rdbuf(err_);
    std::fflush(stdout);
    if (savedStdout_ >= 0) {
      ::dup2(savedStdout_, STDOUT_FILENO);
      ::close(savedStdout_);
      savedStdout_ = -1;
    }
    ByteWriter w;
    w.put<int32_t>(rc);
    w.putString(workerErr.str());
    send(0, kFinal, w.text());
    // Jobs rank 0 sent before it knew this worker was done are dropped.
    while (receive(0, -1).tag != kRelease) {
    }
    return rc;
  }
  for (int r = 1; r < n; ++r)
    if (!noWorkSent(r) && !books().lost.count(r)) send(r, kNoWork, "");
  for (int r = 1; r < n; ++r)
    while (!finalReceived(r)) {
      Message m = receive(r, -1); // a result nobody will read any more is dropped
      if (m.tag == kFinal) {
        ByteReader rd(m.payload);
        int code = rd.get<int32_t>();
        markFinalReceived(r, code, rd.getString());
      }
    }
  for (int r = 1; r < n; ++r)
    if (!books().lost.count(r)) send(r, kRelease, "");
#ifdef CHASSIS_WITH_MPI
  // A lost rank (tools/mpi_search.h) would hang MPI_Finalize: the results are out, end the job
  // with this exit code.
  if (!books().lost.empty()) {
    std::cout.flush();
    std::cerr.flush();
    boost::mpi::environment::abort(rc);
  }
#endif
  return rc;
}

CommandScope::~CommandScope() {
  // An exception left the command: the handshake still happens, so no rank waits forever.
  if (active_ && !finished_) {
    try {
      finish(kInternal);
    } catch (...) {
    }
  }
}

void ByteReader::need(size_t n) const {
  if (text_.size() - pos_ < n) throw std::runtime_error("internal: a truncated MPI message");
}

} // namespace chassis::tools::mpi
