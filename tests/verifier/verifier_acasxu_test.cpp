// A fast subset of the VNN-COMP ACAS Xu benchmark: 12 instances of instances.csv, both verdicts,
// prop_6's disjunction of boxes and props 3/4's output comparisons, each checked against
// bench/acasxu/expected.csv (the verdict every well-ranked VNN-COMP tool agreed on). Every `sat`
// counterexample is replayed through the ONNX graph (neural::Network, float64) as well as the
// folded AffineNet. The whole benchmark is bench/acasxu/run.
#include "neural/network.h"
#include "neural/onnx.h"
#include "spec/vnnlib.h"
#include "verifier/network_verifier.h"
#include "verifier/problem.h"
#include "verifier/vnnlib_query.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>

using namespace chassis;

namespace {
std::map<std::pair<std::string, std::string>, std::string> expectedVerdicts() {
  std::map<std::pair<std::string, std::string>, std::string> out;
  std::ifstream f(std::string(CHASSIS_SOURCE_DIR) + "/bench/acasxu/expected.csv");
  std::string line;
  while (std::getline(f, line)) {
    std::stringstream ss(line);
    std::string net, prop, verdict;
    std::getline(ss, net, ',');
    std::getline(ss, prop, ',');
    std::getline(ss, verdict, ',');
    out[{net, prop}] = verdict;
  }
  return out;
}
} // namespace

TEST_CASE("ACAS Xu fast subset: expected verdicts", "[verifier][acasxu]") {
  const std::pair<const char*, const char*> instances[] = {
      {"1_1", "prop_1"}, {"2_1", "prop_1"}, {"2_1", "prop_2"}, {"4_1", "prop_2"},
      {"1_7", "prop_3"}, {"1_2", "prop_3"}, {"3_3", "prop_4"}, {"2_1", "prop_4"},
      {"1_9", "prop_4"}, {"4_5", "prop_10"}, {"1_1", "prop_6"}, {"1_1", "prop_5"}};
  auto expected = expectedVerdicts();
  REQUIRE(expected.size() == 187); // header + 186 instances
  int holds = 0, violated = 0;
  for (auto [id, prop] : instances) {
    std::string netFile = std::string("ACASXU_run2a_") + id + "_batch_2000.onnx";
    std::string propFile = std::string(prop) + ".vnnlib";
    INFO(netFile << " " << propFile);
    auto network = neural::loadOnnx(std::string(CHASSIS_SOURCE_DIR) + "/tests/data/acasxu/" +
                                    netFile);
    REQUIRE(network);
    auto net = neural::toAffineNet(*network);
    REQUIRE(net);
    auto p = spec::readVnnlib(std::string(CHASSIS_SOURCE_DIR) + "/tests/data/vnnlib/" + propFile);
    REQUIRE(p);
    verifier::NetVerifyOptions opt;
    opt.timeoutSec = 40; // generous for a loaded machine; these take 0-8 s on 2 idle cores
#if defined(__SANITIZE_ADDRESS__)
    opt.timeoutSec *= 5; // the sanitizer build runs several times slower
#endif
    auto r = verifier::verifyNetwork(*net, verifier::toNetworkQuery(*p), opt);
    REQUIRE(r);
    INFO("verdict " << verifier::vnncompName(r->verdict) << " in " << r->seconds << " s ("
                    << r->reason << ")");
    const std::string& exp = expected.at({netFile, propFile});
    if (exp == "holds") {
      ++holds;
      CHECK(r->verdict == verifier::Verdict::Holds);
    } else {
      ++violated;
      REQUIRE(r->verdict == verifier::Verdict::Violated);
      auto cs = verifier::toCaseSpec(p->cases.at(r->caseIndex), p->numOutputs);
      CHECK(verifier::replays(*net, cs, r->x));
      Eigen::VectorXd y = network->forward(r->x);
      CHECK((cs.C * y - cs.d).maxCoeff() <= 0.0);
    }
  }
  CHECK(holds >= 5);
  CHECK(violated >= 4);
}
