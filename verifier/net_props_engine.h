// A narrow bridge to the network engine (verifier/network_verifier.h) for verifier/net_props.cpp.
// It keeps net_props.cpp (the .chs side) apart from the engine's option and result types
// (network_verifier.h: NetVerifyOptions, VerifyResult), passing plain values.
#pragma once

#include "neural/affine_net.h"
#include "spec/error.h"
#include "spec/vnnlib.h"

#include <Eigen/Dense>

#include <cstdint>
#include <string>

namespace chassis::verifier {

struct NetEngineResult {
  enum Kind { Unsat, Sat, Timeout, Unknown } verdict = Unknown;
  Eigen::VectorXd x;  // the counterexample (network input) when Sat
  int caseIndex = -1; // the case of the unsafe set it falls in
  std::string reason;
  long domains = 0;
};

/// verifyNetwork(net, prop, options with timeoutSec and seed); its errors passed through.
Expected<NetEngineResult> runNetworkEngine(const neural::AffineNet& net,
                                           const spec::VnnProperty& prop, double timeoutSec,
                                           uint64_t seed);

} // namespace chassis::verifier
