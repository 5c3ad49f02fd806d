// Hooks into the branch-and-bound search of verifyNetwork (network_verifier.h), for sharing its
// sub-domains with other processes (tools/mpi_search.h) and for recording the sub-domain tree
// (`chassis vnnlib --record-tree`, bench/distributed/simulate).
//
// With NetVerifyOptions::hooks set, the search does not end when its own stack runs empty: its
// worker threads wait, and the thread that called verifyNetwork calls poll() every few
// milliseconds (always from that one thread: MPI's funneled mode). poll() may take pending
// domains from the bottom of the stack (donate), inject domains (inject), stop the search, or
// end it (finish: the search then ends once its stack is empty and no domain is being processed).
// A search whose hooks never call finish() ends at its deadline.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <string>
#include <vector>

namespace chassis::verifier {

/// A sub-domain without its cached bounds (the receiving search recomputes them): everything
/// that decides what the domain is.
struct PortableDomain {
  uint64_t id = 0;      // unique over the run (tree records), see SearchHooks::idBase
  uint64_t parent = 0;  // the domain it was split from (0: a root)
  int32_t group = 0;    // the group of cases sharing one input box
  int32_t depth = 0;
  Eigen::VectorXd lo, hi;                  // the input box
  std::vector<std::vector<int8_t>> splits; // ReLU phases (+1 active, -1 inactive, 0 free)
  std::vector<char> live;                  // which cases of the group are still open
};

/// One processed domain, for the tree file.
struct DomainRecord {
  uint64_t id = 0, parent = 0; // parent 0: a root
  int rank = 0;                // the process that bounded it
  double seconds = 0.0;        // time spent bounding (and splitting) it
  char outcome = 'c';          // 's' split into two, 'c' closed (proved), 'x' counterexample,
                               // 'i' left incomplete (depth limit, Z3 unknown, timeout)
};

/// What poll() may do with the running search. Every call is thread-safe.
class SearchControl {
public:
  virtual ~SearchControl() = default;
  /// Removes up to n pending domains from the bottom of the stack (the largest ones of a
  /// depth-first search) and returns them.
  virtual std::vector<PortableDomain> donate(size_t n) = 0;
  /// Pushes domains onto the stack (they run next).
  virtual void inject(std::vector<PortableDomain> domains) = 0;
  /// Whether the stack is empty and no domain is being processed.
  virtual bool idle() const = 0;
  /// Pending domains on the stack.
  virtual size_t pending() const = 0;
  /// Lets the search end once idle.
  virtual void finish() = 0;
  /// Stops the search now (another process decided the run); its outcome is left incomplete
  /// with `why` as the reason unless it already has a counterexample.
  virtual void stop(const std::string& why) = 0;
  /// A counterexample found elsewhere: the search ends with it.
  virtual void satFound(const Eigen::VectorXd& x, int caseIndex, const std::string& how) = 0;
  /// This search's own outcome so far.
  virtual bool hasSat() const = 0;
  virtual bool isIncomplete() const = 0;
};

class SearchHooks {
public:
  virtual ~SearchHooks() = default;
  /// Whether this search starts from the property's root domains (and runs the attack first);
  /// otherwise it starts empty and waits for injected domains.
  virtual bool ownsRoots() const { return true; }
  /// Added to every domain id of this search (so that ids of several processes differ).
  virtual uint64_t idBase() const { return 0; }
  /// Called from verifyNetwork's thread every few milliseconds while the search runs.
  virtual void poll(SearchControl& control) = 0;
  /// Whether record() wants the processed domains (else it is never called).
  virtual bool recording() const { return false; }
  /// Called from the worker threads (concurrently) for every processed domain.
  virtual void record(const DomainRecord&) {}
};

} // namespace chassis::verifier
