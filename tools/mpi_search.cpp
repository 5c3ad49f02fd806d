// One instance's branch and bound on several processes (tools/mpi_search.h).
#include "tools/mpi_search.h"

#include "tools/command.h"
#include "tools/mpi_world.h"
#include "tools/output_file.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

namespace chassis::tools {

namespace {

using Clock = std::chrono::steady_clock;
using namespace verifier;

// Message kinds of the shared search (beyond mpi_world.h's).
constexpr int kIdle = 20;    // worker -> 0: my search is idle (u8 incomplete, u64[N] domains sent
                             // to each rank, u64[N] domains received from each rank)
constexpr int kSat = 23;     // worker -> 0: a counterexample (x, case, how)
constexpr int kEnd = 24;     // 0 -> worker: the run is decided, stop and report
constexpr int kReport = 25;  // worker -> 0: this rank's outcome, counts and tree records
constexpr int kAlive = 26;   // worker -> 0: heartbeat (u64: pending domains)
constexpr int kStart = 28;   // 0 -> worker: rank 0's search starts (f64: its time left, u64: the
                             // search's number), so the workers' deadlines are rank 0's
constexpr int kClosed = 27;  // 0 -> worker: every report is in, nothing more of this search comes
                             // (the next search of the command, `verify`, starts clean)
constexpr int kSteal = 29;   // thief -> victim (any two ranks): u64 search number
constexpr int kLoot = 30;    // victim -> thief: u64 search number, u64 victim's pending count
                             // after it, the domains (none: a refusal)
constexpr double kHeartbeatSeconds = 0.25, kLostAfterSeconds = 5.0;
constexpr double kStealAnswerSeconds = 0.5; // an unanswered steal request is given up after this
/// The share of one thread rank 0's attack beside the search takes when no core is left for it
/// (tools/mpi_search.h): bursts of NetVerifyOptions::backgroundAttackBurst, 9 times as long idle.
constexpr double kAttackDutyWithoutSpareCore = 0.1;

/// Rank 0 numbers the searches of a command; peer messages of an earlier search are dropped.
uint64_t searchCounter = 0;

double since(Clock::time_point t, Clock::time_point now) {
  return std::chrono::duration<double>(now - t).count();
}

double unixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
double cpuClock(clockid_t id) {
  timespec ts{};
  if (clock_gettime(id, &ts) != 0) return 0.0;
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}
double processCpu() {
  return cpuClock(CLOCK_PROCESS_CPUTIME_ID);
}
double threadCpu() {
  return cpuClock(CLOCK_THREAD_CPUTIME_ID);
}

/// When this process started, in Unix seconds (to the kernel's clock tick), -1 if unknown: its
/// start time since boot (/proc/self/stat, field 22) placed on the clock through CLOCK_BOOTTIME.
double processStarted() {
  std::ifstream f("/proc/self/stat");
  std::string line;
  if (!std::getline(f, line)) return -1.0;
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return -1.0;
  std::istringstream rest(line.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && (rest >> field); ++i) // fields 3 (state) .. 22 (starttime)
    if (i == 22) {
      const long ticks = sysconf(_SC_CLK_TCK);
      char* end = nullptr;
      const double since = std::strtod(field.c_str(), &end);
      if (ticks <= 0 || end == field.c_str()) return -1.0;
      return unixNow() - (cpuClock(CLOCK_BOOTTIME) - since / double(ticks));
    }
  return -1.0;
}

/// Where one rank's time goes (RankSummary's timing fields): stamped at the shared search's
/// entry, at its first poll, at every processed domain (from the worker threads) and at its end.
class RankClock {
public:
  void ready() {
    t_.started = processStarted();
    t_.ready = unixNow();
    t_.cpuReady = processCpu();
  }
  void startedLike(const RankClock& o) {
    t_.started = o.t_.started;
    t_.ready = o.t_.ready;
    t_.cpuReady = o.t_.cpuReady;
  }
  void polled() { // the polling thread (verifyNetwork's)
    if (polled_) return;
    polled_ = true;
    t_.searchStart = unixNow();
    t_.cpuSearchStart = processCpu();
    pollCpuAtStart_ = threadCpu();
  }
  void domain(double seconds) { // a worker thread
    const double cpu = threadCpu();
    std::lock_guard<std::mutex> lk(mu_);
    t_.busySeconds += seconds;
    workerCpu_[std::this_thread::get_id()] = cpu;
  }
  void ended() { // the polling thread, after the search returned
    t_.searchEnd = unixNow();
    t_.cpuSearchEnd = processCpu();
    if (!polled_) { // decided before the search polled (the first attack)
      t_.searchStart = t_.searchEnd;
      t_.cpuSearchStart = t_.cpuSearchEnd;
    } else {
      t_.pollCpu = threadCpu() - pollCpuAtStart_;
    }
    std::lock_guard<std::mutex> lk(mu_);
    t_.workerCpu = 0;
    for (const auto& kv : workerCpu_)
      t_.workerCpu += kv.second;
  }
  /// The timing fields, in RankSummary's order, for a worker's report.
  void put(mpi::ByteWriter& w) const {
    for (double v : {t_.started, t_.ready, t_.searchStart, t_.searchEnd, t_.busySeconds,
                     t_.cpuReady, t_.cpuSearchStart, t_.cpuSearchEnd, t_.workerCpu, t_.pollCpu})
      w.put<double>(v);
  }
  static void get(mpi::ByteReader& r, RankSummary& t) {
    for (double* v : {&t.started, &t.ready, &t.searchStart, &t.searchEnd, &t.busySeconds,
                      &t.cpuReady, &t.cpuSearchStart, &t.cpuSearchEnd, &t.workerCpu, &t.pollCpu})
      *v = r.get<double>();
  }
  /// Copies the timing fields into s.
  void into(RankSummary& s) const {
    std::lock_guard<std::mutex> lk(mu_);
    const RankSummary keep = s;
    s = t_;
    s.rank = keep.rank;
    s.domains = keep.domains;
    s.ended = keep.ended;
    s.steals = keep.steals;
    s.received = keep.received;
    s.fromWorkers = keep.fromWorkers;
    s.given = keep.given;
    s.attackDuty = keep.attackDuty;
  }

private:
  mutable std::mutex mu_;
  RankSummary t_;
  bool polled_ = false;
  double pollCpuAtStart_ = 0.0;
  std::map<std::thread::id, double> workerCpu_;
};

void sendTo(int dest, int tag, const std::string& payload) {
  mpi::send(dest, mpi::Tag(tag), payload);
}

void putVec(mpi::ByteWriter& w, const Eigen::VectorXd& v) {
  w.putVector(std::vector<double>(v.data(), v.data() + v.size()));
}
Eigen::VectorXd getVec(mpi::ByteReader& r) {
  std::vector<double> v = r.getVector<double>();
  return Eigen::Map<Eigen::VectorXd>(v.data(), Eigen::Index(v.size()));
}

std::string encodeDomains(const std::vector<PortableDomain>& ds) {
  mpi::ByteWriter w;
  w.put<uint64_t>(ds.size());
  for (const PortableDomain& d : ds) {
    w.put<uint64_t>(d.id);
    w.put<uint64_t>(d.parent);
    w.put<int32_t>(d.group);
    w.put<int32_t>(d.depth);
    putVec(w, d.lo);
    putVec(w, d.hi);
    w.put<uint64_t>(d.splits.size());
    for (const auto& s : d.splits)
      w.putVector(s);
    w.putVector(d.live);
  }
  return w.text();
}

std::vector<PortableDomain> decodeDomains(mpi::ByteReader& r) {
  std::vector<PortableDomain> ds(size_t(r.get<uint64_t>()));
  for (PortableDomain& d : ds) {
    d.id = r.get<uint64_t>();
    d.parent = r.get<uint64_t>();
    d.group = r.get<int32_t>();
    d.depth = r.get<int32_t>();
    d.lo = getVec(r);
    d.hi = getVec(r);
    d.splits.resize(size_t(r.get<uint64_t>()));
    for (auto& s : d.splits)
      s = r.getVector<int8_t>();
    d.live = r.getVector<char>();
  }
  return ds;
}

/// The processed domains of one rank (worker threads add to it concurrently).
class Recorder {
public:
  explicit Recorder(int rank) : rank_(rank) {}
  void add(DomainRecord r) {
    r.rank = rank_;
    std::lock_guard<std::mutex> lk(mu_);
    records_.push_back(r);
  }
  std::vector<DomainRecord> take() {
    std::lock_guard<std::mutex> lk(mu_);
    return std::move(records_);
  }

private:
  int rank_;
  std::mutex mu_;
  std::vector<DomainRecord> records_;
};

/// A worker's outcome, sent to rank 0 when its search ends.
struct Report {
  bool incomplete = false, timedOut = false;
  bool sat = false;         // it sent a counterexample
  bool stoppedBusy = false; // rank 0's end stopped it with domains left
  std::string reason;
  long domains = 0, leaves = 0, lpSolves = 0, lpClosed = 0;
  long steals = 0, received = 0, fromWorkers = 0, given = 0; // StealAgent's counts
  RankSummary timing; // its timing fields (RankClock)
  std::vector<DomainRecord> records;
};

/// One rank's side of the peer-to-peer stealing (every rank, rank 0 included, has one): it
/// answers steal requests with up to half of its stack's bottom, asks a victim of its own when its
/// search is idle, and counts the domains it sent to and received from each rank (the counts
/// rank 0's termination test compares; see tools/mpi_search.h).
class StealAgent {
public:
  StealAgent(int me, int size, bool rankZeroHasWork, uint64_t search)
      : me_(me), sentTo(size_t(size), 0), receivedFrom(size_t(size), 0), search_(search),
        rng_(uint32_t(0x9e3779b9u * uint32_t(me + 1) + uint32_t(search))) {
    for (int r = 0; r < size; ++r)
      if (r != me && (r != 0 || rankZeroHasWork)) victims_.push_back(r);
  }

  /// Handles a kSteal or kLoot message. ctl is null (or ended() is set) once this rank's search
  /// is over: a request then gets a refusal and arriving domains are dropped (the run is
  /// decided). Returns the number of domains injected.
  size_t handle(const mpi::Message& m, SearchControl* ctl) {
    mpi::ByteReader rd(m.payload);
    const uint64_t search = rd.get<uint64_t>();
    if (m.tag == kSteal) {
      std::vector<PortableDomain> give;
      if (search == search_ && ctl && !ended)
        give = ctl->donate((ctl->pending() + 1) / 2);
      sentTo[size_t(m.source)] += give.size();
      given += long(give.size());
      mpi::ByteWriter w;
      w.put<uint64_t>(search);
      w.put<uint64_t>(ctl && !ended ? ctl->pending() : 0);
      sendTo(m.source, kLoot, w.text() + encodeDomains(give));
      return 0;
    }
    if (search != search_) return 0; // a late answer to an earlier search's request
    (void)rd.get<uint64_t>();        // the victim's pending count (a hint, unused for now)
    std::vector<PortableDomain> ds = decodeDomains(rd);
    if (asked_ && *asked_ == m.source) asked_.reset();
    if (ds.empty() || !ctl || ended) return 0;
    receivedFrom[size_t(m.source)] += ds.size();
    ++steals;
    received += long(ds.size());
    if (m.source != 0) fromWorkers += long(ds.size());
    const size_t n = ds.size();
    ctl->inject(std::move(ds));
    return n;
  }

  /// An idle search asks one victim (chosen at random) for domains; one request at a time.
  void maybeSteal(SearchControl& ctl, Clock::time_point now) {
    if (ended || victims_.empty() || !ctl.idle()) return;
    if (asked_ && since(askedAt_, now) < kStealAnswerSeconds) return;
    std::uniform_int_distribution<size_t> pick(0, victims_.size() - 1);
    const int v = victims_[pick(rng_)];
    mpi::ByteWriter w;
    w.put<uint64_t>(search_);
    sendTo(v, kSteal, w.text());
    asked_ = v;
    askedAt_ = now;
    ++requests;
  }

  int me_;
  std::vector<uint64_t> sentTo, receivedFrom; // domains, per other rank
  bool ended = false;
  long steals = 0, requests = 0, received = 0, fromWorkers = 0, given = 0;

private:
  uint64_t search_;
  std::vector<int> victims_;
  std::optional<int> asked_;
  Clock::time_point askedAt_{};
  std::mt19937 rng_;
};

/// Ranks 1..N-1: their search starts empty and steals domains from the others.
class WorkerHooks : public SearchHooks {
public:
  WorkerHooks(int rank, int size, bool record, int rootsRank, uint64_t search)
      : recorder_(rank), agent(rank, size, rootsRank == 0, search), rank_(rank), record_(record),
        rootsRank_(rootsRank) {}
  bool ownsRoots() const override { return rank_ == rootsRank_; }
  uint64_t idBase() const override { return uint64_t(rank_) << 48; }
  // Every domain is seen (the busy seconds and worker CPU of RankClock); kept only with record_.
  bool recording() const override { return true; }
  void record(const DomainRecord& r) override {
    clock.domain(r.seconds);
    if (record_) recorder_.add(r);
  }

  void poll(SearchControl& ctl) override {
    clock.polled();
    const auto now = Clock::now();
    while (auto m = mpi::tryReceive(-1, -1)) {
      if (m->tag == kSteal || m->tag == kLoot) {
        if (agent.handle(*m, &ctl) > 0) idleSent_ = false;
        continue;
      }
      if (m->source != 0) continue;
      if (m->tag == kEnd || m->tag == mpi::kNoWork) {
        // Rank 0 decided (or never started its search): an idle search just ends, a busy one
        // is stopped.
        endedByRoot = true;
        agent.ended = true;
        rootEnded |= m->tag == mpi::kNoWork;
        incompleteAtEnd = ctl.isIncomplete();
        stoppedBusy = !ctl.idle();
        if (stoppedBusy) ctl.stop("stopped by rank 0");
        ctl.finish();
      }
    }
    if (!endedByRoot && !idleSent_ && ctl.idle()) {
      // The counts are taken now, while idle: rank 0's termination test (tools/mpi_search.h).
      mpi::ByteWriter w;
      w.put<uint8_t>(ctl.isIncomplete() ? 1 : 0);
      w.putVector(agent.sentTo);
      w.putVector(agent.receivedFrom);
      sendTo(0, kIdle, w.text());
      idleSent_ = true;
    }
    if (!endedByRoot) agent.maybeSteal(ctl, now);
    if (since(lastBeat_, now) >= kHeartbeatSeconds) {
      mpi::ByteWriter w;
      w.put<uint64_t>(ctl.pending());
      sendTo(0, kAlive, w.text());
      lastBeat_ = now;
    }
  }

  Recorder recorder_;
  StealAgent agent;
  RankClock clock;
  bool endedByRoot = false, incompleteAtEnd = false;
  bool stoppedBusy = false; // rank 0's end came while this rank still had domains
  bool rootEnded = false;   // rank 0 ended its command without this search (kNoWork)

private:
  int rank_;
  bool record_;
  int rootsRank_;
  bool idleSent_ = false;
  Clock::time_point lastBeat_{};
};

/// Rank 0 (or one process recording its tree): a stealing peer like the others, and the owner
/// of the result and of the termination test.
class OwnerHooks : public SearchHooks {
public:
  enum class State { Busy, Idle, Done, Lost };
  struct Peer {
    State state = State::Busy; // until its first kIdle
    Clock::time_point heard{};
    bool incomplete = false;
    bool endSent = false;
    std::vector<uint64_t> sentTo, receivedFrom; // as of its last kIdle
    Report report;
  };

  OwnerHooks(int size, bool record, int rootsRank, uint64_t search)
      : recorder_(0), agent(0, size, rootsRank == 0, search), peers_(size_t(size)),
        record_(record), rootsRank_(rootsRank) {
    // A rank lost in an earlier search of this command (`verify`) takes no part.
    for (size_t r = 1; r < peers_.size(); ++r) {
      if (mpi::isLost(int(r))) peers_[r].state = State::Lost;
      peers_[r].sentTo.assign(peers_.size(), 0);
      peers_[r].receivedFrom.assign(peers_.size(), 0);
    }
  }
  /// With the roots on another rank, rank 0 bounds no domain (it neither steals nor is asked).
  bool ownsRoots() const override { return rootsRank_ == 0; }
  // Every domain is seen (the busy seconds and worker CPU of RankClock); kept only with record_.
  bool recording() const override { return true; }
  void record(const DomainRecord& r) override {
    clock.domain(r.seconds);
    if (record_) recorder_.add(r);
  }

  void poll(SearchControl& ctl) override {
    clock.polled();
    const auto now = Clock::now();
    if (!started_) {
      for (Peer& p : peers_)
        p.heard = now;
      started_ = true;
    }
    drain(&ctl, now);
    checkLost(now);
    if (!failure.empty()) {
      ctl.stop(failure);
      return;
    }
    if (ctl.hasSat()) return;
    if (rootsRank_ == 0) agent.maybeSteal(ctl, now);
    if (ctl.idle() && everyDomainClosed()) {
      endAll();
      ctl.finish();
    }
  }

  /// Tells every rank still searching to stop and report.
  void endAll() {
    agent.ended = true;
    for (size_t r = 1; r < peers_.size(); ++r) {
      Peer& p = peers_[r];
      if ((p.state == State::Busy || p.state == State::Idle) && !p.endSent) {
        sendTo(int(r), kEnd, "");
        p.endSent = true;
      }
    }
  }

  /// After rank 0's search: waits for every rank's report (or its loss: never blocks for more
  /// than kLostAfterSeconds after a rank's last message).
  void collect() {
    agent.ended = true;
    if (peers_.size() <= 1) return;
    if (!started_) {
      for (Peer& p : peers_)
        p.heard = Clock::now();
      started_ = true;
    }
    endAll();
    while (true) {
      const auto now = Clock::now();
      drain(nullptr, now);
      checkLost(now);
      bool waiting = false;
      for (size_t r = 1; r < peers_.size(); ++r)
        if (peers_[r].state == State::Busy || peers_[r].state == State::Idle) waiting = true;
      if (!waiting) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (size_t r = 1; r < peers_.size(); ++r)
      if (peers_[r].state != State::Lost) sendTo(int(r), kClosed, "");
  }

  Recorder recorder_;
  StealAgent agent;
  RankClock clock;
  std::string failure; // a lost rank: the run's verdict is unknown
  std::optional<std::pair<Eigen::VectorXd, int>> lateSat;
  std::string lateSatHow;
  const std::vector<Peer>& peers() const { return peers_; }

private:
  /// The termination test (argued in tools/mpi_search.h): every worker has reported itself idle
  /// at least once, and for every ordered pair of ranks (i, j) the domains i sent to j (rank 0's
  /// own count now, a worker's as of its last idle report) equal those j received from i.
  bool everyDomainClosed() const {
    const size_t n = peers_.size();
    for (size_t r = 1; r < n; ++r)
      if (peers_[r].state != State::Idle) return false;
    auto sent = [&](size_t i, size_t j) {
      return i == 0 ? agent.sentTo[j] : peers_[i].sentTo[j];
    };
    auto received = [&](size_t j, size_t i) {
      return j == 0 ? agent.receivedFrom[i] : peers_[j].receivedFrom[i];
    };
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j)
        if (i != j && sent(i, j) != received(j, i)) return false;
    return true;
  }

  void drain(SearchControl* ctl, Clock::time_point now) {
    if (peers_.size() <= 1) return;
    while (auto m = mpi::tryReceive(-1, -1)) {
      const int r = m->source;
      if (r <= 0 || size_t(r) >= peers_.size()) continue;
      Peer& p = peers_[size_t(r)];
      p.heard = now;
      if (m->tag == kSteal || m->tag == kLoot) {
        agent.handle(*m, ctl);
        continue;
      }
      mpi::ByteReader rd(m->payload);
      switch (int(m->tag)) {
      case kIdle: {
        if (rd.get<uint8_t>() != 0) p.incomplete = true;
        std::vector<uint64_t> sent = rd.getVector<uint64_t>();
        std::vector<uint64_t> received = rd.getVector<uint64_t>();
        if (sent.size() == peers_.size() && received.size() == peers_.size()) {
          p.sentTo = std::move(sent);
          p.receivedFrom = std::move(received);
          if (p.state == State::Busy) p.state = State::Idle;
        }
        break;
      }
      case kAlive:
        break;
      case kSat: {
        Eigen::VectorXd x = getVec(rd);
        const int ci = rd.get<int32_t>();
        const std::string how = "rank " + std::to_string(r) + ": " + rd.getString();
        p.report.sat = true;
        if (ctl) {
          ctl->satFound(x, ci, how);
        } else if (!lateSat) {
          lateSat.emplace(std::move(x), ci);
          lateSatHow = how;
        }
        break;
      }
      case kReport: {
        Report& rep = p.report;
        rep.incomplete = rd.get<uint8_t>() != 0;
        rep.timedOut = rd.get<uint8_t>() != 0;
        rep.stoppedBusy = rd.get<uint8_t>() != 0;
        rep.reason = rd.getString();
        rep.domains = long(rd.get<int64_t>());
        rep.leaves = long(rd.get<int64_t>());
        rep.lpSolves = long(rd.get<int64_t>());
        rep.lpClosed = long(rd.get<int64_t>());
        rep.steals = long(rd.get<int64_t>());
        rep.received = long(rd.get<int64_t>());
        rep.fromWorkers = long(rd.get<int64_t>());
        rep.given = long(rd.get<int64_t>());
        RankClock::get(rd, rep.timing);
        rep.records = rd.getVector<DomainRecord>();
        p.incomplete |= rep.incomplete;
        p.state = State::Done;
        break;
      }
      case mpi::kFinal: { // its command ended (a report, if any, came before)
        const int code = rd.get<int32_t>();
        const std::string err = rd.getString();
        mpi::markFinalReceived(r, code, err);
        if (p.state != State::Done) {
          p.state = State::Lost;
          if (failure.empty())
            failure = "rank " + std::to_string(r) + " ended its command (exit " +
                      std::to_string(code) + ") during the shared search" +
                      (err.empty() ? std::string() : ": " + err);
        }
        break;
      }
      default:
        break;
      }
    }
  }

  void checkLost(Clock::time_point now) {
    for (size_t r = 1; r < peers_.size(); ++r) {
      Peer& p = peers_[r];
      if ((p.state == State::Busy || p.state == State::Idle) &&
          since(p.heard, now) > kLostAfterSeconds) {
        p.state = State::Lost;
        mpi::markLost(int(r));
        if (failure.empty()) {
          char buf[64];
          std::snprintf(buf, sizeof buf, "%.0f s", kLostAfterSeconds);
          failure = "rank " + std::to_string(r) + " stopped answering (no message for " + buf +
                    "; killed?): its sub-domains are not closed";
        }
      }
    }
  }

  std::vector<Peer> peers_;
  bool record_;
  int rootsRank_;
  bool started_ = false;
};

const char* outcomeWord(char c) {
  switch (c) {
  case 's':
    return "split";
  case 'x':
    return "sat";
  case 'i':
    return "incomplete";
  default:
    return "closed";
  }
}

} // namespace

double capAttackWithoutSpareCore(NetVerifyOptions& opt, bool dispatcherOnHost) {
  const int size = mpi::worldSize();
  if (size <= 1 || !opt.attack || opt.backgroundAttackAfter < 0) return -1.0;
  const int threads = std::max(1, opt.threads);
  const int hostCores = int(std::max(1u, std::thread::hardware_concurrency()));
  int searching = mpi::ranksOnThisHost();
  if (dispatcherOnHost && searching == size) searching = std::max(1, searching - 1);
  const bool spareCore =
      searching * threads < hostCores && threads < mpi::coresOfThisProcess();
  if (!spareCore)
    opt.backgroundAttackDuty = std::min(opt.backgroundAttackDuty, kAttackDutyWithoutSpareCore);
  return opt.backgroundAttackDuty;
}

Expected<VerifyResult> verifyShared(const neural::AffineNet& net, const NetworkQuery& query,
                                    NetVerifyOptions opt, const std::string& recordPath,
                                    int rootsRank, std::vector<RankSummary>* ranks) {
  const int size = mpi::worldSize();
  if (rootsRank < 0 || rootsRank >= std::max(size, 1))
    return Error("the roots cannot go to rank " + std::to_string(rootsRank) + " of " +
                 std::to_string(size) + " process(es)");
  if (size <= 1 && recordPath.empty()) return verifyNetwork(net, query, opt);
  if (rootsRank != 0) opt.attack = false;
  // The attack beside the search only on a core of its own (tools/mpi_search.h).
  const double attackDuty = capAttackWithoutSpareCore(opt);
  const uint64_t search = ++searchCounter;
  OwnerHooks broker(size, !recordPath.empty(), rootsRank, search);
  broker.clock.ready();
  for (int r = 1; r < size; ++r)
    if (!mpi::isLost(r)) {
      mpi::ByteWriter w;
      w.put<double>(opt.timeoutSec);
      w.put<uint64_t>(search);
      sendTo(r, kStart, w.text());
    }
  opt.hooks = &broker;
  auto res = verifyNetwork(net, query, opt);
  broker.clock.ended();
  broker.collect();
  if (!res) return res;
  if (ranks) {
    ranks->clear();
    const bool ownSat = res->verdict == Verdict::Violated && res->reason.rfind("rank ", 0) != 0;
    const StealAgent& a = broker.agent;
    RankSummary own{0, res->domains, ownSat ? "sat" : "owner", a.steals, a.received,
                    a.fromWorkers, a.given};
    own.attackDuty = attackDuty;
    broker.clock.into(own);
    ranks->push_back(own);
    for (size_t r = 1; r < broker.peers().size(); ++r) {
      const auto& p = broker.peers()[r];
      const char* ended = p.state == OwnerHooks::State::Lost ? "lost"
                          : p.report.sat                      ? "sat"
                          : p.report.stoppedBusy              ? "stopped"
                          : p.report.incomplete               ? "incomplete"
                                                              : "idle";
      const Report& k = p.report;
      RankSummary s = k.timing;
      s.rank = int(r);
      s.domains = k.domains;
      s.ended = ended;
      s.steals = k.steals;
      s.received = k.received;
      s.fromWorkers = k.fromWorkers;
      s.given = k.given;
      ranks->push_back(s);
    }
  }
  std::vector<DomainRecord> records = broker.recorder_.take();
  std::string incompleteWhy;
  bool timedOut = false;
  for (size_t r = 1; r < broker.peers().size(); ++r) {
    const auto& p = broker.peers()[r];
    res->domains += p.report.domains;
    res->leaves += p.report.leaves;
    res->lpSolves += p.report.lpSolves;
    res->lpClosed += p.report.lpClosed;
    records.insert(records.end(), p.report.records.begin(), p.report.records.end());
    if (p.incomplete && incompleteWhy.empty()) {
      incompleteWhy = "rank " + std::to_string(r) + ": " +
                      (p.report.reason.empty() ? "incomplete" : p.report.reason);
      timedOut = p.report.timedOut;
    }
  }
  if (res->verdict != Verdict::Violated && broker.lateSat) {
    res->verdict = Verdict::Violated;
    res->x = broker.lateSat->first;
    res->caseIndex = broker.lateSat->second;
    res->y = net.forward(res->x);
    res->reason = broker.lateSatHow;
  } else if (res->verdict == Verdict::Holds && !broker.failure.empty()) {
    res->verdict = Verdict::Unknown;
    res->reason = broker.failure;
  } else if (res->verdict == Verdict::Holds && !incompleteWhy.empty()) {
    res->verdict = timedOut ? Verdict::Timeout : Verdict::Unknown;
    res->reason = incompleteWhy;
  } else if (res->verdict != Verdict::Violated && !broker.failure.empty() &&
             res->reason.find("rank ") == std::string::npos) {
    res->reason = broker.failure + "; " + res->reason;
  }
  if (!recordPath.empty()) {
    std::string csv = "id,parent,rank,seconds,outcome\n";
    char buf[160];
    for (const DomainRecord& d : records) {
      std::snprintf(buf, sizeof buf, "%llu,%llu,%d,%.9f,%s\n", (unsigned long long)d.id,
                    (unsigned long long)d.parent, d.rank, d.seconds, outcomeWord(d.outcome));
      csv += buf;
    }
    if (!writeFileAtomic(recordPath, csv))
      return Error("cannot write the tree to " + recordPath);
  }
  return res;
}

bool serveSharedSearch(const neural::AffineNet& net, const NetworkQuery& query,
                       NetVerifyOptions opt, bool recordTree, int rootsRank) {
  const int me = mpi::rank();
  if (rootsRank != 0) opt.attack = false;
  RankClock clock;
  clock.ready();
  uint64_t search = 0;
  // Rank 0 may still be busy with what came before this search (verify: the last property's
  // replay): the deadline counts from its start.
  while (true) {
    const mpi::Message m = mpi::receive(0, -1);
    if (m.tag == mpi::kNoWork) return false; // rank 0 ended its command without this search
    if (m.tag != kStart) continue;
    mpi::ByteReader rd(m.payload);
    opt.timeoutSec = rd.get<double>();
    search = rd.get<uint64_t>();
    break;
  }
  WorkerHooks hooks(me, mpi::worldSize(), recordTree, rootsRank, search);
  hooks.clock.startedLike(clock); // its start-up, before the wait for rank 0's start
  opt.hooks = &hooks;
  auto res = verifyNetwork(net, query, opt);
  hooks.clock.ended();
  if (!res) { // rank 0 reports the same error; this rank still reports and waits for the close
    VerifyResult failed;
    failed.reason = res.error().message;
    res = failed;
  }
  if (res->verdict == Verdict::Violated) {
    mpi::ByteWriter w;
    putVec(w, res->x);
    w.put<int32_t>(res->caseIndex);
    w.putString(res->reason);
    sendTo(0, kSat, w.text());
  }
  const bool incomplete = hooks.endedByRoot ? hooks.incompleteAtEnd
                                            : (res->verdict == Verdict::Timeout ||
                                               res->verdict == Verdict::Unknown);
  mpi::ByteWriter w;
  w.put<uint8_t>(incomplete ? 1 : 0);
  w.put<uint8_t>(res->verdict == Verdict::Timeout ? 1 : 0);
  w.put<uint8_t>(hooks.stoppedBusy ? 1 : 0);
  w.putString(res->reason);
  const StealAgent& a = hooks.agent;
  for (long v : {res->domains, res->leaves, res->lpSolves, res->lpClosed, a.steals, a.received,
                 a.fromWorkers, a.given})
    w.put<int64_t>(v);
  hooks.clock.put(w);
  w.putVector(hooks.recorder_.take());
  sendTo(0, kReport, w.text());
  // What rank 0 sent before it had every report (a kEnd after this rank's own end) is read and
  // dropped here, and so are the other ranks' steal messages of this search (a request gets a
  // refusal: domains may no longer move), so that no sender stays blocked on this rank.
  hooks.agent.ended = true;
  while (!hooks.rootEnded) {
    const mpi::Message m = mpi::receive(-1, -1);
    if (m.tag == kSteal || m.tag == kLoot) {
      hooks.agent.handle(m, nullptr);
      continue;
    }
    if (m.source != 0) continue;
    if (m.tag == kClosed) break;
    if (m.tag == mpi::kNoWork) return false; // rank 0 ended its command
  }
  return !hooks.rootEnded;
}

SharedNetworkEngine::SharedNetworkEngine() {
  if (mpi::worldSize() <= 1) return;
  active_ = true;
  previous_ = setNetworkEngineRunner([this](const neural::AffineNet& net,
                                           const NetworkQuery& query,
                                           const NetVerifyOptions& opt) -> Expected<VerifyResult> {
    if (mpi::rank() == 0) return verifyShared(net, query, opt, "");
    VerifyResult r;
    r.verdict = Verdict::Unknown;
    r.reason = "a worker rank: served rank 0's search";
    if (!rootEnded_ && !serveSharedSearch(net, query, opt, false)) rootEnded_ = true;
    return r;
  });
}

int SharedNetworkEngine::exitCode(int rc) const {
  return active_ && mpi::rank() != 0 ? int(kOk) : rc;
}

SharedNetworkEngine::~SharedNetworkEngine() {
  if (active_) setNetworkEngineRunner(std::move(previous_));
}

CampaignNetworkEngine::CampaignNetworkEngine() {
  if (mpi::worldSize() <= 1) return;
  active_ = true;
  previous_ = setNetworkEngineRunner([](const neural::AffineNet& net, const NetworkQuery& query,
                                        const NetVerifyOptions& given) {
    NetVerifyOptions opt = given;
    capAttackWithoutSpareCore(opt, true);
    return verifyNetwork(net, query, opt);
  });
}

CampaignNetworkEngine::~CampaignNetworkEngine() {
  if (active_) setNetworkEngineRunner(std::move(previous_));
}

} // namespace chassis::tools
