// One instance's branch and bound on several processes: `mpirun -np N chassis vnnlib NET PROP`
// (tools/mpi_world.h). Every rank loads the network and the property itself; rank 0 runs the
// attack and the root domains and owns the result and the termination; the sub-domains move
// between the ranks by peer-to-peer work stealing (verifier/search_hooks.h):
//   - a rank whose search is idle (stack empty, nothing being bounded) sends a steal request
//     (kSteal) to a victim chosen uniformly at random among the other ranks (rank 0 included
//     unless it bounds nothing, --roots-on-rank); the victim answers (kLoot) with up to half of
//     its pending domains, taken from the bottom of its depth-first stack (the largest ones), or
//     with none; the thief then asks again (another random victim), one request at a time, and
//     gives up a request unanswered for 0.5 s (a killed victim). Rank 0 brokers nothing;
//   - every rank counts the domains it sent to and received from each other rank; a worker sends
//     rank 0 both counts (kIdle) each time its search becomes idle, taken at that moment;
//   - `unsat` (holds) only when rank 0's search is idle, every worker has reported idle at least
//     once, and for every ordered pair of ranks (i, j) sent(i -> j) == received(j <- i), with
//     rank 0's own counts current and a worker's as of its last kIdle; and no rank left a domain
//     incomplete. Why no domain is then pending anywhere or in flight: suppose worker X is busy
//     at the test though its last report (time t_X) said idle. A worker becomes busy after an
//     idle moment only by receiving domains, so X received a domain from some Y after t_X; that
//     transfer is not in X's reported received(X <- Y). If Y's counted report (or Y = 0, counted
//     now) includes the send, sent(Y -> X) > received(X <- Y): the test fails. Otherwise Y sent
//     it after its own last report t_Y, so Y, idle at t_Y, held a domain after t_Y: it received
//     one after t_Y and before that send, from some Z, and the same holds for Z with an earlier
//     send. Each step goes to a strictly earlier send in a finite run and none can reach rank 0
//     (counted now) or a rank's roots (a worker holding roots counts as busy until its first
//     report): contradiction. A domain in flight from Y to X is the same case (sent counted, not
//     yet received, or sent after Y's report). Counts only grow, and MPI keeps the order of the
//     messages of one sender, so rank 0 always holds each worker's latest report;
//   - `sat` found on any rank goes to rank 0, which ends every rank's search at once (their Z3
//     queries are interrupted); domains still moving are dropped (the run is decided);
//   - the timeout is rank 0's: each worker starts its search when rank 0 says its own starts,
//     with rank 0's time left (rank 0's deadline governs);
//   - a rank that sends nothing (every rank sends a heartbeat every 250 ms) for 5 s, or whose
//     command ends early, is lost: the run ends at once with `unknown` and a message naming the
//     rank (never `unsat`). With Open MPI's defaults mpirun itself ends the whole job when a rank
//     is killed; `--mca orte_abort_on_non_zero_status 0` lets rank 0 report it;
//   - rank 0 numbers the searches of a command (`verify` runs several); steal messages of an
//     earlier search are refused or dropped, and a worker reads every message, steal requests
//     included (refused), until rank 0 closes the search, so no sender stays blocked.
// `vnnlib --json`'s "ranks" gives each rank's successful steals, domains received (and of those
// from ranks >= 1, i.e. worker to worker when the rank is a worker) and given, and where its time
// went (RankSummary: start-up, search window, busy seconds, CPU of its threads).
// Rank 0's attack beside the search (verifier/network_verifier.h) runs only when a core is left
// for it on rank 0's host (ranks on the host x threads < its cores, and rank 0 not bound to
// fewer cores than its threads): otherwise it would take CPU from a search thread, of rank 0 or
// of a worker on the same cores, and every rank waits for the slowest (it then runs in bursts of
// 10% of one thread, so that a counterexample in a thin region is still searched for).
// `verify FILE` shares each network property's search the same way (SharedNetworkEngine below).
// Without mpirun nothing here runs, except the tree recording (--record-tree), which works on one
// process too.
#pragma once

#include "neural/affine_net.h"
#include "spec/error.h"
#include "verifier/net_props.h"
#include "verifier/network_verifier.h"

#include <string>
#include <vector>

namespace chassis::tools {

/// How one rank's part of a shared search ended (`vnnlib --json`'s "ranks").
struct RankSummary {
  int rank = 0;
  long domains = 0;  // the domains it bounded
  std::string ended; // rank 0: "owner" (or "sat": its own search found the counterexample);
                     // others: "sat" (it found it), "stopped" (rank 0's end stopped it with
                     // domains left), "idle" (nothing left when the end came), "incomplete"
                     // (it left a domain undecided), "lost" (killed or silent)
  long steals = 0;       // its steal requests that brought domains
  long received = 0;     // domains it received from other ranks
  long fromWorkers = 0;  // of those, domains received from ranks >= 1
  long given = 0;        // domains it gave to other ranks' requests
  // Where its time went (bench/distributed/run). Instants in Unix seconds of this host's clock
  // (comparable between the ranks of one host), CPU in seconds of this process's CPU time.
  double started = -1;     // the process's start (Linux /proc/self/stat, 10 ms ticks; -1: unknown)
  double ready = 0;        // MPI up, network and property loaded: the shared search's entry
  double searchStart = 0;  // its search's first poll (rank 0: after the first attack and roots)
  double searchEnd = 0;    // its search returned
  double busySeconds = 0;  // wall seconds spent bounding its domains (its tree records' sum)
  double cpuReady = 0, cpuSearchStart = 0, cpuSearchEnd = 0; // process CPU at those instants
  double workerCpu = 0;    // CPU of its search's worker threads up to their last domain
  double pollCpu = 0;      // CPU of the thread polling for messages, during the search
  double attackDuty = -1;  // rank 0: the attack beside the search's share of one thread (0: off)
};

/// Under mpirun (a world of more than one process), the attack beside a search on this process
/// keeps its duty only when a core is left for it on this host (ranks on the host x threads <
/// its cores, and this process not bound to fewer cores than its threads); otherwise its duty is
/// capped at 0.1 of one thread (bursts), since it would take CPU from a search thread of this rank
/// or of another rank on the same cores. Returns the duty now in `opt` (-1: no attack beside the
/// search, or a world of one, where nothing changes). Used by the shared search's rank 0 and by
/// every campaign instance (`vnnlib --instances`, `verify --all`), which runs whole on its rank;
/// a campaign's rank 0 only hands out instances (tools/campaign.h): `dispatcherOnHost` then
/// leaves it out of the ranks on the host when every rank is on this one.
double capAttackWithoutSpareCore(verifier::NetVerifyOptions& opt, bool dispatcherOnHost = false);

/// `chassis verify --all` under mpirun: while one lives, every network property's search runs on
/// its own rank with capAttackWithoutSpareCore applied. Does nothing in a world of one.
class CampaignNetworkEngine {
public:
  CampaignNetworkEngine();
  ~CampaignNetworkEngine();
  CampaignNetworkEngine(const CampaignNetworkEngine&) = delete;
  CampaignNetworkEngine& operator=(const CampaignNetworkEngine&) = delete;

private:
  bool active_ = false;
  verifier::NetworkEngineRunner previous_;
};

/// Rank 0 (or one process): verifyNetwork with its search shared with ranks 1..N-1 (when there
/// are any) and, with a non-empty recordPath, every processed domain of every rank written there
/// as CSV (id,parent,rank,seconds,outcome; bench/distributed/simulate replays it). The counts of
/// the result (domains, leaves, LPs) add up every rank's; `ranks`, if given, gets each rank's.
/// rootsRank (for tests: `vnnlib --roots-on-rank`) puts the root domains on that rank instead of
/// rank 0, without the attacks, and rank 0 then bounds no domain itself, so a
/// counterexample can only be found by a rank >= 1.
Expected<verifier::VerifyResult> verifyShared(const neural::AffineNet& net,
                                              const verifier::NetworkQuery& query,
                                              verifier::NetVerifyOptions opt,
                                              const std::string& recordPath, int rootsRank = 0,
                                              std::vector<RankSummary>* ranks = nullptr);

/// Ranks 1..N-1: serve rank 0's search until it ends it; returns once this rank's report (with
/// its tree records when recordTree) is sent and rank 0 has closed the search (so a command that
/// runs several searches, `verify`, starts each one with no message of the last left over).
/// Returns false when rank 0 ended its command without this search (an error, a stop): then no
/// further search of the command is served.
bool serveSharedSearch(const neural::AffineNet& net, const verifier::NetworkQuery& query,
                       verifier::NetVerifyOptions opt, bool recordTree, int rootsRank = 0);

/// `chassis verify FILE` under mpirun (not --all): while one lives, every network property's
/// search (verifier/net_props.h) is shared by the ranks. Every rank verifies the file's
/// properties in the same order, so their searches pair up: rank 0's gets the shared verdict; a
/// worker's serves rank 0's search and gets `unknown` (a worker prints nothing). Properties of
/// other kinds (Z3, enumeration) run on every rank alike. Does nothing in a world of one.
class SharedNetworkEngine {
public:
  SharedNetworkEngine();
  ~SharedNetworkEngine();
  SharedNetworkEngine(const SharedNetworkEngine&) = delete;
  SharedNetworkEngine& operator=(const SharedNetworkEngine&) = delete;
  /// The command's exit code on rank 0; kOk on a worker (its verdicts are not the run's, and
  /// rank 0 reports the same errors).
  int exitCode(int rc) const;

private:
  bool active_ = false;
  bool rootEnded_ = false; // a worker: rank 0 ended its command, nothing more to serve
  verifier::NetworkEngineRunner previous_;
};

} // namespace chassis::tools
