// The background attack's late throttle (NetVerifyOptions::backgroundAttackFullSeconds and
// backgroundAttackLateDuty): with the throttle engaged from the search's start (the attack in
// short bursts with pauses between them), verifyNetwork still ends when the search decides (the
// attack thread's pause is cut short, no hang), keeps the verdicts of ACAS Xu instances of both
// kinds, and a counterexample found by the throttled attack replays.
#include "neural/network.h"
#include "neural/onnx.h"
#include "spec/vnnlib.h"
#include "verifier/network_verifier.h"
#include "verifier/problem.h"
#include "verifier/vnnlib_query.h"

#include <catch2/catch.hpp>

#include <optional>
#include <string>

using namespace chassis;

namespace {

struct Loaded {
  std::optional<neural::Network> network;
  std::optional<neural::AffineNet> net;
  std::optional<spec::VnnProperty> prop;
};

Loaded load(const std::string& id, const std::string& prop) {
  Loaded l;
  auto network = neural::loadOnnx(std::string(CHASSIS_SOURCE_DIR) +
                                  "/tests/data/acasxu/ACASXU_run2a_" + id + "_batch_2000.onnx");
  REQUIRE(network);
  auto net = neural::toAffineNet(*network);
  REQUIRE(net);
  auto p = spec::readVnnlib(std::string(CHASSIS_SOURCE_DIR) + "/tests/data/vnnlib/" + prop +
                            ".vnnlib");
  REQUIRE(p);
  l.network = std::move(*network);
  l.net = std::move(*net);
  l.prop = std::move(*p);
  return l;
}

verifier::NetVerifyOptions throttledFromStart() {
  verifier::NetVerifyOptions opt;
  opt.timeoutSec = 60; // generous for a loaded machine
#if defined(__SANITIZE_ADDRESS__)
  opt.timeoutSec *= 5;
#endif
  opt.backgroundAttackAfter = 0;       // the attack beside the search from its start ...
  opt.backgroundAttackFullSeconds = 0; // ... throttled at once ...
  opt.backgroundAttackLateDuty = 0.25; // ... to bursts of 0.05 s with 0.15 s pauses
  opt.backgroundAttackBurst = 0.05;
  return opt;
}

} // namespace

TEST_CASE("background attack throttle: a holding instance is proved and the run ends",
          "[verifier][acasxu]") {
  Loaded l = load("2_1", "prop_4"); // holds
  auto r = verifier::verifyNetwork(*l.net, verifier::toNetworkQuery(*l.prop), throttledFromStart());
  REQUIRE(r);
  INFO(r->reason);
  CHECK(r->verdict == verifier::Verdict::Holds);
}

TEST_CASE("background attack throttle: the throttled attack's counterexample replays",
          "[verifier][acasxu]") {
  Loaded l = load("1_5", "prop_2"); // violated
  verifier::NetVerifyOptions opt = throttledFromStart();
  opt.attackFirstSeconds = 0; // no first attack: the throttled one or the search finds it
  auto r = verifier::verifyNetwork(*l.net, verifier::toNetworkQuery(*l.prop), opt);
  REQUIRE(r);
  INFO(r->reason);
  REQUIRE(r->verdict == verifier::Verdict::Violated);
  auto cs = verifier::toCaseSpec(l.prop->cases.at(r->caseIndex), l.prop->numOutputs);
  CHECK(verifier::replays(*l.net, cs, r->x));
  Eigen::VectorXd y = l.network->forward(r->x);
  CHECK((cs.C * y - cs.d).maxCoeff() <= 0.0);
}
