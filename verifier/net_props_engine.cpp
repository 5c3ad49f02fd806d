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
  switch (r->verdict) {
  case Verdict::Unsat:
    out.verdict = NetEngineResult::Unsat;
    break;
  case Verdict::Sat:
    out.verdict = NetEngineResult::Sat;
    break;
  case Verdict::Timeout:
    out.verdict = NetEngineResult::Timeout;
    break;
  case Verdict::Unknown:
    out.verdict = NetEngineResult::Unknown;
    break;
  }
  out.x = r->x;
  out.caseIndex = r->caseIndex;
  out.reason = r->reason;
  out.domains = r->domains;
  return out;
}

} // namespace chassis::verifier
