// One instance's branch and bound on several processes (tools/mpi_search.h).
#include "tools/mpi_search.h"

#include "tools/command.h"
#include "tools/mpi_world.h"
#include "tools/output_file.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

namespace chassis::tools {

namespace {

using Clock = std::chrono::steady_clock;
using namespace verifier;

// Message kinds of the shared search (beyond mpi_world.h's).
constexpr int kIdle = 20;    // worker -> 0: my stack is empty (u8: left something incomplete)
constexpr int kDomains = 21; // 0 -> worker: domains to search; worker -> 0: donated domains
constexpr int kDonate = 22;  // 0 -> worker: give up to n (u64) pending domains
constexpr int kSat = 23;     // worker -> 0: a counterexample (x, case, how)
constexpr int kEnd = 24;     // 0 -> worker: the run is decided, stop and report
constexpr int kReport = 25;  // worker -> 0: this rank's outcome, counts and tree records
constexpr int kAlive = 26;   // worker -> 0: heartbeat (u64: pending domains)
constexpr int kStart = 28;   // 0 -> worker: rank 0's search starts (f64: its time left), so the
                             // workers' deadlines are rank 0's whenever each one got there
constexpr int kClosed = 27;  // 0 -> worker: every report is in, nothing more of this search comes
                             // (the next search of the command, `verify`, starts clean)
constexpr double kHeartbeatSeconds = 0.25, kLostAfterSeconds = 5.0;

double since(Clock::time_point t, Clock::time_point now) {
  return std::chrono::duration<double>(now - t).count();
}

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
  std::vector<DomainRecord> records;
};

/// Ranks 1..N-1: their search starts empty and takes domains from rank 0.
class WorkerHooks : public SearchHooks {
public:
  WorkerHooks(int rank, bool record, int rootsRank)
      : recorder_(rank), rank_(rank), record_(record), rootsRank_(rootsRank) {}
  bool ownsRoots() const override { return rank_ == rootsRank_; }
  uint64_t idBase() const override { return uint64_t(rank_) << 48; }
  bool recording() const override { return record_; }
  void record(const DomainRecord& r) override { recorder_.add(r); }

  void poll(SearchControl& ctl) override {
    const auto now = Clock::now();
    while (auto m = mpi::tryReceive(0, -1)) {
      mpi::ByteReader rd(m->payload);
      if (m->tag == kDomains) {
        ctl.inject(decodeDomains(rd));
        idleSent_ = false;
      } else if (m->tag == kDonate) {
        const size_t n = size_t(rd.get<uint64_t>());
        sendTo(0, kDomains, encodeDomains(ctl.donate(std::min(n, (ctl.pending() + 1) / 2))));
      } else if (m->tag == kEnd || m->tag == mpi::kNoWork) {
        // Rank 0 decided (or never started its search): an idle search just ends, a busy one
        // is stopped.
        endedByRoot = true;
        rootEnded |= m->tag == mpi::kNoWork;
        incompleteAtEnd = ctl.isIncomplete();
        stoppedBusy = !ctl.idle();
        if (stoppedBusy) ctl.stop("stopped by rank 0");
        ctl.finish();
      }
    }
    if (!endedByRoot && !idleSent_ && ctl.idle()) {
      mpi::ByteWriter w;
      w.put<uint8_t>(ctl.isIncomplete() ? 1 : 0);
      sendTo(0, kIdle, w.text());
      idleSent_ = true;
    }
    if (since(lastBeat_, now) >= kHeartbeatSeconds) {
      mpi::ByteWriter w;
      w.put<uint64_t>(ctl.pending());
      sendTo(0, kAlive, w.text());
      lastBeat_ = now;
    }
  }

  Recorder recorder_;
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

/// Rank 0 (or one process recording its tree): the broker of the shared search.
class BrokerHooks : public SearchHooks {
public:
  enum class State { Busy, Idle, Done, Lost };
  struct Peer {
    State state = State::Busy; // until its first kIdle
    Clock::time_point heard{};
    bool asked = false;        // a kDonate is unanswered
    size_t pending = 0;        // its last heartbeat's count
    bool incomplete = false;
    bool endSent = false;
    Report report;
  };

  BrokerHooks(int size, bool record, int rootsRank)
      : recorder_(0), peers_(size_t(size)), record_(record), rootsRank_(rootsRank) {
    // A rank lost in an earlier search of this command (`verify`) takes no part.
    for (size_t r = 1; r < peers_.size(); ++r)
      if (mpi::isLost(int(r))) peers_[r].state = State::Lost;
  }
  /// With the roots on another rank, rank 0 only brokers: its search bounds no domain.
  bool ownsRoots() const override { return rootsRank_ == 0; }
  bool recording() const override { return record_; }
  void record(const DomainRecord& r) override { recorder_.add(r); }

  void poll(SearchControl& ctl) override {
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
    distribute(ctl);
    bool othersIdle = pool_.empty();
    for (size_t r = 1; r < peers_.size(); ++r)
      if (peers_[r].state == State::Busy) othersIdle = false;
    if (othersIdle && ctl.idle()) { // every domain given out came back closed: the search ends
      endAll();
      ctl.finish();
    }
  }

  /// Tells every rank still searching to stop and report.
  void endAll() {
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
  std::string failure;       // a lost rank: the run's verdict is unknown
  std::optional<std::pair<Eigen::VectorXd, int>> lateSat;
  std::string lateSatHow;
  const std::vector<Peer>& peers() const { return peers_; }

private:
  void drain(SearchControl* ctl, Clock::time_point now) {
    if (peers_.size() <= 1) return;
    while (auto m = mpi::tryReceive(-1, -1)) {
      const int r = m->source;
      if (r <= 0 || size_t(r) >= peers_.size()) continue;
      Peer& p = peers_[size_t(r)];
      p.heard = now;
      mpi::ByteReader rd(m->payload);
      switch (int(m->tag)) {
      case kIdle:
        if (rd.get<uint8_t>() != 0) p.incomplete = true;
        if (p.state == State::Busy) p.state = State::Idle;
        break;
      case kAlive:
        p.pending = size_t(rd.get<uint64_t>());
        break;
      case kDomains: {
        p.asked = false;
        for (PortableDomain& d : decodeDomains(rd))
          pool_.push_back(std::move(d));
        break;
      }
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

  /// Idle ranks get domains: from the pool, else from the bottom of rank 0's own stack, else
  /// rank 0 asks the busy ranks with the most pending domains for some.
  void distribute(SearchControl& ctl) {
    const bool brokerOnly = rootsRank_ != 0;
    if (!brokerOnly && ctl.idle() && !pool_.empty()) {
      std::vector<PortableDomain> one;
      one.push_back(std::move(pool_.front()));
      pool_.pop_front();
      ctl.inject(std::move(one));
    }
    std::vector<int> hungry;
    for (size_t r = 1; r < peers_.size(); ++r)
      if (peers_[r].state == State::Idle) hungry.push_back(int(r));
    auto give = [&](int r, PortableDomain d) {
      std::vector<PortableDomain> one;
      one.push_back(std::move(d));
      sendTo(r, kDomains, encodeDomains(one));
      peers_[size_t(r)].state = State::Busy;
      peers_[size_t(r)].pending = 1;
    };
    size_t h = 0;
    for (; h < hungry.size() && !pool_.empty(); ++h) {
      give(hungry[h], std::move(pool_.front()));
      pool_.pop_front();
    }
    const size_t own = ctl.pending();
    if (h < hungry.size() && own > 0) {
      for (PortableDomain& d : ctl.donate(std::min(hungry.size() - h, (own + 1) / 2)))
        give(hungry[h++], std::move(d));
    }
    // Rank 0 itself steals too when it has nothing.
    size_t want = hungry.size() - h + (!brokerOnly && ctl.idle() && pool_.empty() ? 1 : 0);
    if (want == 0) return;
    std::vector<int> victims;
    for (size_t r = 1; r < peers_.size(); ++r)
      if (peers_[r].state == State::Busy && !peers_[r].asked && peers_[r].pending > 0)
        victims.push_back(int(r));
    std::sort(victims.begin(), victims.end(),
              [&](int a, int b) { return peers_[size_t(a)].pending > peers_[size_t(b)].pending; });
    for (int v : victims) {
      if (want == 0) break;
      mpi::ByteWriter w;
      w.put<uint64_t>(want);
      sendTo(v, kDonate, w.text());
      peers_[size_t(v)].asked = true;
      const size_t expect = std::min(want, (peers_[size_t(v)].pending + 1) / 2);
      want -= std::max<size_t>(1, expect);
    }
  }

  std::vector<Peer> peers_;
  bool record_;
  int rootsRank_;
  bool started_ = false;
  std::deque<PortableDomain> pool_;
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

Expected<VerifyResult> verifyShared(const neural::AffineNet& net, const spec::VnnProperty& prop,
                                    NetVerifyOptions opt, const std::string& recordPath,
                                    int rootsRank, std::vector<RankSummary>* ranks) {
  const int size = mpi::worldSize();
  if (rootsRank < 0 || rootsRank >= std::max(size, 1))
    return Error("the roots cannot go to rank " + std::to_string(rootsRank) + " of " +
                 std::to_string(size) + " process(es)");
  if (size <= 1 && recordPath.empty()) return verifyNetwork(net, prop, opt);
  if (rootsRank != 0) opt.attack = false;
  BrokerHooks broker(size, !recordPath.empty(), rootsRank);
  for (int r = 1; r < size; ++r)
    if (!mpi::isLost(r)) {
      mpi::ByteWriter w;
      w.put<double>(opt.timeoutSec);
      sendTo(r, kStart, w.text());
    }
  opt.hooks = &broker;
  auto res = verifyNetwork(net, prop, opt);
  broker.collect();
  if (!res) return res;
  if (ranks) {
    ranks->clear();
    const bool ownSat = res->verdict == Verdict::Sat && res->reason.rfind("rank ", 0) != 0;
    ranks->push_back({0, res->domains, ownSat ? "sat" : "owner"});
    for (size_t r = 1; r < broker.peers().size(); ++r) {
      const auto& p = broker.peers()[r];
      const char* ended = p.state == BrokerHooks::State::Lost ? "lost"
                          : p.report.sat                      ? "sat"
                          : p.report.stoppedBusy              ? "stopped"
                          : p.report.incomplete               ? "incomplete"
                                                              : "idle";
      ranks->push_back({int(r), p.report.domains, ended});
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
  if (res->verdict != Verdict::Sat && broker.lateSat) {
    res->verdict = Verdict::Sat;
    res->x = broker.lateSat->first;
    res->caseIndex = broker.lateSat->second;
    res->y = net.forward(res->x);
    res->reason = broker.lateSatHow;
  } else if (res->verdict == Verdict::Unsat && !broker.failure.empty()) {
    res->verdict = Verdict::Unknown;
    res->reason = broker.failure;
  } else if (res->verdict == Verdict::Unsat && !incompleteWhy.empty()) {
    res->verdict = timedOut ? Verdict::Timeout : Verdict::Unknown;
    res->reason = incompleteWhy;
  } else if (res->verdict != Verdict::Sat && !broker.failure.empty() &&
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

bool serveSharedSearch(const neural::AffineNet& net, const spec::VnnProperty& prop,
                       NetVerifyOptions opt, bool recordTree, int rootsRank) {
  const int me = mpi::rank();
  if (rootsRank != 0) opt.attack = false;
  // Rank 0 may still be busy with what came before this search (verify: the last property's
  // replay): the deadline counts from its start.
  while (true) {
    const mpi::Message m = mpi::receive(0, -1);
    if (m.tag == mpi::kNoWork) return false; // rank 0 ended its command without this search
    if (m.tag != kStart) continue;
    mpi::ByteReader rd(m.payload);
    opt.timeoutSec = rd.get<double>();
    break;
  }
  WorkerHooks hooks(me, recordTree, rootsRank);
  opt.hooks = &hooks;
  auto res = verifyNetwork(net, prop, opt);
  if (!res) { // rank 0 reports the same error; this rank still reports and waits for the close
    VerifyResult failed;
    failed.reason = res.error().message;
    res = failed;
  }
  if (res->verdict == Verdict::Sat) {
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
  for (long v : {res->domains, res->leaves, res->lpSolves, res->lpClosed})
    w.put<int64_t>(v);
  w.putVector(hooks.recorder_.take());
  sendTo(0, kReport, w.text());
  // What rank 0 sent before it had every report (a kEnd after this rank's own end, a domain or a
  // donation request that crossed the report) is read and dropped here.
  while (!hooks.rootEnded) {
    const mpi::Message m = mpi::receive(0, -1);
    if (m.tag == kClosed) break;
    if (m.tag == mpi::kNoWork) return false; // rank 0 ended its command
  }
  return !hooks.rootEnded;
}

SharedNetworkEngine::SharedNetworkEngine() {
  if (mpi::worldSize() <= 1) return;
  active_ = true;
  previous_ = setNetworkEngineRunner([this](const neural::AffineNet& net,
                                           const spec::VnnProperty& prop,
                                           const NetVerifyOptions& opt) -> Expected<VerifyResult> {
    if (mpi::rank() == 0) return verifyShared(net, prop, opt, "");
    VerifyResult r;
    r.verdict = Verdict::Unknown;
    r.reason = "a worker rank: served rank 0's search";
    if (!rootEnded_ && !serveSharedSearch(net, prop, opt, false)) rootEnded_ = true;
    return r;
  });
}

int SharedNetworkEngine::exitCode(int rc) const {
  return active_ && mpi::rank() != 0 ? int(kOk) : rc;
}

SharedNetworkEngine::~SharedNetworkEngine() {
  if (active_) setNetworkEngineRunner(std::move(previous_));
}

} // namespace chassis::tools
