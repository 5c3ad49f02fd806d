// The `chassis` command on several processes: `mpirun -np N chassis ...` (Open MPI through
// Boost.MPI; built when CMake's CHASSIS_MPI is on). Rank 0 is the process that reads the inputs
// and writes every output; ranks 1..N-1 are workers that take their jobs from rank 0
// (tools/mpi_jobs.h: the instances of a campaign, tools/campaign.h, and the files of
// `verify --all`, tools/verify_all.h) or run their share of the work (MCMC chains,
// tools/mpi_chains.h, the sub-domains of one vnnlib instance, tools/mpi_search.h) and send the
// results back. Only those commands are distributed
// (distributed() below): any other command runs on rank 0 alone and the workers exit at once, so
// `mpirun -np N chassis check x.chs` prints once.
//
// Started without mpirun (or with one process) nothing here initialises MPI: the world size is
// read from the launcher's environment (Open MPI's OMPI_COMM_WORLD_SIZE, PMI's PMI_SIZE), and a
// world of one is exactly the single-process program.
//
// Messages are strings (the callers encode their records with ByteWriter, which keeps doubles
// bit for bit). The end of every command is a handshake (CommandScope): each worker sends a final
// message (its exit code and what it wrote to standard error, which a worker buffers), rank 0
// receives them all and releases the workers; so a rank that fails early (a bad file) never
// leaves another blocked.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace chassis::tools::mpi {

/// Whether this chassis was built with MPI (CMake CHASSIS_MPI).
bool builtIn();

/// " (MPI: ...)" for --version: the MPI library built in, or that MPI is not built in.
std::string versionNote();

/// The number of processes started together (1 without a launcher) and this one's rank.
int worldSize();
int rank();
/// The ranks the launcher started on this host (Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE, MPICH's
/// MPI_LOCALNRANKS, PMIx's PMIX_LOCAL_SIZE; else every rank: one host) and the cores this process
/// may run on (its CPU affinity: mpirun binds each of up to 2 ranks to a core here, and none
/// when oversubscribed). The shared search (tools/mpi_search.h) runs its attack beside the search
/// only when there is a core left over for it.
int ranksOnThisHost();
int coresOfThisProcess();
/// Whether the launcher started this process as a rank other than 0 (read from the environment,
/// without initialising MPI): the command-line errors are then left to rank 0.
bool launchedAsWorker();

/// Message kinds (MPI tags).
enum Tag : int {
  kWork = 1,   // rank 0 -> worker: one job
  kNoWork = 2, // rank 0 -> worker: no more jobs
  kResult = 3, // worker -> rank 0: one job's result
  kFinal = 4,  // worker -> rank 0: the worker's command ended (exit code, its stderr text)
  kRelease = 5 // rank 0 -> worker: everyone is done, exit
};

void send(int dest, Tag tag, const std::string& payload);
/// Receives the next message from `source` (-1: any) with `tag` (-1: any).
struct Message {
  int source = 0;
  Tag tag = kWork;
  std::string payload;
};
Message receive(int source, int tag);
/// The next message from `source` (-1: any) with `tag` (-1: any) if one has arrived, else
/// nothing (never blocks: tools/mpi_search.cpp's rank 0 keeps its own deadline).
std::optional<Message> tryReceive(int source, int tag);

/// Rank 0's bookkeeping of the workers during one command: which were sent kNoWork and which
/// have sent kFinal (a distributed command updates it; CommandScope completes the handshake).
void markNoWorkSent(int worker);
bool noWorkSent(int worker);
void markFinalReceived(int worker, int exitCode, const std::string& stderrText);
bool finalReceived(int worker);
/// A worker that stopped answering (killed): the final handshake neither waits for it nor
/// sends to it.
void markLost(int worker);
bool isLost(int worker);

/// Brackets one parsed subcommand in runDriver. On a world of one it does nothing. Otherwise:
/// for a command that is not distributed (`distributed(cmd)` false) a worker's exitCode() is
/// kOk (it runs nothing); without MPI built in, a distributed command stops with an error on
/// rank 0 (exit 2). On a worker running a distributed command, standard output is discarded
/// and standard error buffered until finish(), which does the final handshake.
class CommandScope {
public:
  explicit CommandScope(const CLI::App& cmd);
  ~CommandScope();
  CommandScope(const CommandScope&) = delete;
  CommandScope& operator=(const CommandScope&) = delete;
  /// Set when the command must not run on this rank: the exit code to return instead.
  std::optional<int> exitCode() const { return exit_; }
  /// Ends the command: the handshake; returns `rc`.
  int finish(int rc);

private:
  std::optional<int> exit_;
  bool active_ = false, finished_ = false;
  std::streambuf *out_ = nullptr, *err_ = nullptr;
  int savedStdout_ = -1; // a worker's file descriptor 1 while it points at /dev/null
};

/// Whether the parsed subcommand splits its work over the ranks: `vnnlib --instances`, one
/// `vnnlib NET PROP` instance's search (not --naive/--emit; tools/mpi_search.h), `verify --all`,
/// `verify FILE`'s network-property searches (not --emit/--emit-dir) and
/// `infer` on a .chs model (its mh and nuts chains; tools/mpi_chains.h).
bool distributed(const CLI::App& cmd);

/// Byte encoding of records for messages: integers and doubles copied bit for bit.
class ByteWriter {
public:
  template <typename T> void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    text_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void putString(std::string_view s) {
    put<uint64_t>(s.size());
    text_.append(s);
  }
  template <typename T> void putVector(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    put<uint64_t>(v.size());
    text_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  const std::string& text() const { return text_; }

private:
  std::string text_;
};

/// Reads what ByteWriter wrote; a short message throws std::runtime_error (a bug: both sides are
/// the same program).
class ByteReader {
public:
  explicit ByteReader(std::string_view text) : text_(text) {}
  template <typename T> T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    need(sizeof(T));
    T v;
    std::memcpy(&v, text_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    return v;
  }
  template <typename T> std::vector<T> getVector() {
    static_assert(std::is_trivially_copyable_v<T>);
    size_t n = size_t(get<uint64_t>());
    need(n * sizeof(T));
    std::vector<T> v(n);
    if (n) std::memcpy(v.data(), text_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return v;
  }
  std::string getString() {
    size_t n = size_t(get<uint64_t>());
    need(n);
    std::string s(text_.substr(pos_, n));
    pos_ += n;
    return s;
  }

private:
  void need(size_t n) const;
  std::string_view text_;
  size_t pos_ = 0;
};

} // namespace chassis::tools::mpi
