// The network engine's query (network_verifier.h): an input box and a conjunction of linear
// output constraints  C y <= d  (row-wise) per case. The unsafe set of a case is
// { x in box : C net(x) <= d }; the property holds iff every case's unsafe set is empty.
// Built from a VNN-LIB file (vnnlib_query.h, the only place that knows the format) or from a
// .chs property over a network call (net_props.h).
// Also the float64 replay check every counterexample must pass before it is reported.
#pragma once

#include "neural/affine_net.h"
#include "spec/error.h"
#include "verifier/bounds.h"

#include <Eigen/Dense>

#include <cstdint>
#include <vector>

namespace chassis::verifier {

struct CaseSpec {
  Box box;
  Eigen::MatrixXd C; // constraints x outputs
  Eigen::VectorXd d;
};

/// A network-level query: the unsafe set is the union of the cases (the property fails iff some
/// case has an input). Every case's box has numInputs entries and its C numOutputs columns.
struct NetworkQuery {
  int numInputs = 0, numOutputs = 0;
  std::vector<CaseSpec> cases;
  SourceLoc origin; // where the property was stated: the location of the engine's size errors
};

/// max_j ((C y)_j - d_j) for y = net(x) in float64: <= 0 iff x violates the property (given x
/// is in the box). -infinity when the case has no output constraints.
double violation(const neural::AffineNet& net, const CaseSpec& cs, const Eigen::VectorXd& x);

/// The replay check: x lies in the box and net(x) satisfies every constraint, in float64.
bool replays(const neural::AffineNet& net, const CaseSpec& cs, const Eigen::VectorXd& x);

/// A small deterministic generator (SplitMix64) for sampling inside the verifier; kept local
/// so verifier results do not depend on other libraries' streams.
class SplitMix {
public:
  explicit SplitMix(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
  uint64_t s_;
};

} // namespace chassis::verifier
