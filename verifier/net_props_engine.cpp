// The bridge to verifyNetwork (see net_props_engine.h for why it is a separate file).
#include "verifier/net_props_engine.h"

#include "verifier/network_verifier.h"

namespace chassis::verifier {

namespace {
NetworkEngineRunner& runnerSlot() {
  static NetworkEngineRunner runner;
  return runner;
}
} // namespace

NetworkEngineRunner setNetworkEngineRunner(NetworkEngineRunner runner) {
  NetworkEngineRunner old = std::move(runnerSlot());
  runnerSlot() = std::move(runner);
  return old;
}

Expected<NetEngineResult> runNetworkEngine(const neural::AffineNet& net,
                                           const spec::VnnProperty& prop, double timeoutSec,
                                           uint64_t seed) {
  NetVerifyOptions o;
  o.timeoutSec = timeoutSec > 0 ? timeoutSec : 60.0;
  o.seed = seed == 0 ? 1 : seed;
  auto r = runnerSlot() ? runnerSlot()(net, prop, o) : verifyNetwork(net, prop, o);
  if (!r) return r.error();
  NetEngineResult out;
  out.verdict = r->verdict;
  out.x = r->x;
  out.caseIndex = r->caseIndex;
  out.reason = r->reason;
  out.domains = r->domains;
  return out;
}

} // namespace chassis::verifier
