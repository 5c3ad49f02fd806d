// A narrow bridge to the network engine (verifier/network_verifier.h) for verifier/net_props.cpp.
// It keeps net_props.cpp (the .chs side) apart from the engine's option and result types
// (network_verifier.h: NetVerifyOptions, VerifyResult), passing plain values.
#pragma once

#include "neural/affine_net.h"
#include "spec/error.h"
#include "spec/vnnlib.h"
#include "verifier/verdict.h"

#include <Eigen/Dense>

#include <cstdint>
#include <functional>
#include <string>

namespace chassis::verifier {

struct NetVerifyOptions; // network_verifier.h
struct VerifyResult;

struct NetEngineResult {
  Verdict verdict = Verdict::Unknown;
  Eigen::VectorXd x;  // the counterexample (network input) when Violated
  int caseIndex = -1; // the case of the unsafe set it falls in
  std::string reason;
  long domains = 0;
};

/// What runs each search of runNetworkEngine instead of verifyNetwork, if set: under mpirun,
/// `chassis verify` sets one on every rank (tools/mpi_search.h, SharedNetworkEngine) so that the
/// ranks share each network property's branch and bound.
using NetworkEngineRunner = std::function<Expected<VerifyResult>(
    const neural::AffineNet&, const spec::VnnProperty&, const NetVerifyOptions&)>;
/// Sets the runner (empty: verifyNetwork again); returns the one it replaces. Not thread-safe:
/// set it before the properties are verified.
NetworkEngineRunner setNetworkEngineRunner(NetworkEngineRunner runner);

/// verifyNetwork(net, prop, options with timeoutSec and seed), or the runner set above; its
/// errors passed through.
Expected<NetEngineResult> runNetworkEngine(const neural::AffineNet& net,
                                           const spec::VnnProperty& prop, double timeoutSec,
                                           uint64_t seed);

} // namespace chassis::verifier
