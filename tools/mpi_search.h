// One instance's branch and bound on several processes: `mpirun -np N chassis vnnlib NET PROP`
// (tools/mpi_world.h). Every rank loads the network and the property itself; rank 0 runs the
// attack and the root domains and owns the result; the sub-domains move between ranks through
// rank 0, which acts as the broker of the work stealing (verifier/search_hooks.h):
//   - a rank whose stack runs empty says so (idle); rank 0 gives it a domain from its pool, or
//     takes one from the bottom of its own stack, or asks the busy rank with the most pending
//     domains to give up to half of its stack (the largest domains: the bottom of a depth-first
//     stack), and passes them on;
//   - `sat` found on any rank goes to rank 0, which ends every rank's search at once (their Z3
//     queries are interrupted);
//   - `unsat` (holds) only when rank 0's stack and pool are empty and every other rank has
//     reported itself idle after the last domain it was given (each rank gets domains from rank 0
//     only and reports idle once per batch, and messages between two ranks keep their order, so
//     no domain is then in flight), and no rank left a domain incomplete;
//   - the timeout is rank 0's: each worker starts its search when rank 0 says its own starts,
//     with rank 0's time left (rank 0's deadline governs);
//   - a rank that sends nothing (every rank sends a heartbeat every 250 ms) for 5 s, or whose
//     command ends early, is lost: the run ends at once with `unknown` and a message naming the
//     rank (never `unsat`). With Open MPI's defaults mpirun itself ends the whole job when a rank
//     is killed; `--mca orte_abort_on_non_zero_status 0` lets rank 0 report it.
// `verify FILE` shares each network property's search the same way (SharedNetworkEngine below).
// Without mpirun nothing here runs, except the tree recording (--record-tree), which works on one
// process too.
#pragma once

#include "neural/affine_net.h"
#include "spec/error.h"
#include "spec/vnnlib.h"
#include "verifier/net_props_engine.h"
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
};

/// Rank 0 (or one process): verifyNetwork with its search shared with ranks 1..N-1 (when there
/// are any) and, with a non-empty recordPath, every processed domain of every rank written there
/// as CSV (id,parent,rank,seconds,outcome; bench/distributed/simulate replays it). The counts of
/// the result (domains, leaves, LPs) add up every rank's; `ranks`, if given, gets each rank's.
/// rootsRank (for tests: `vnnlib --roots-on-rank`) puts the root domains on that rank instead of
/// rank 0, without the attacks, and rank 0 then only brokers (bounds no domain itself), so a
/// counterexample can only be found by a rank >= 1.
Expected<verifier::VerifyResult> verifyShared(const neural::AffineNet& net,
                                              const spec::VnnProperty& prop,
                                              verifier::NetVerifyOptions opt,
                                              const std::string& recordPath, int rootsRank = 0,
                                              std::vector<RankSummary>* ranks = nullptr);

/// Ranks 1..N-1: serve rank 0's search until it ends it; returns once this rank's report (with
/// its tree records when recordTree) is sent and rank 0 has closed the search (so a command that
/// runs several searches, `verify`, starts each one with no message of the last left over).
/// Returns false when rank 0 ended its command without this search (an error, a stop): then no
/// further search of the command is served.
bool serveSharedSearch(const neural::AffineNet& net, const spec::VnnProperty& prop,
                       verifier::NetVerifyOptions opt, bool recordTree, int rootsRank = 0);

/// `chassis verify FILE` under mpirun (not --all): while one lives, every network property's
/// search (verifier/net_props_engine.h) is shared by the ranks. Every rank verifies the file's
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
