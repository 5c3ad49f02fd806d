// A fast subset of each VNN-COMP 2022 benchmark the project measures (tests/data/vnncomp: 12 of
// rl_benchmarks, cartpole, lunarlander and dubinsrejoin's disjunctions of up to 15 cases; 5 of
// reach_prob_density, gcas with 14 inputs, which the engine must split on its input to decide,
// and vdp; 2 of tllverifybench, the N=8 two-level lattice networks, one holding after ReLU
// branch and bound; 1 of oval21, the CIFAR-10 conv net cifar_deep_kw on a 3x32x32 box, decided
// by alpha-CROWN at the root), each checked against the benchmark's expected verdict. Every `sat` counterexample is replayed through the
// ONNX graph (neural::Network, float64) as well as the folded AffineNet. The whole benchmarks
// run with bench/vnncomp/run.
#include "neural/network.h"
#include "neural/onnx.h"
#include "spec/vnnlib.h"
#include "verifier/network_verifier.h"
#include "verifier/problem.h"
#include "verifier/vnnlib_query.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace chassis;

namespace {
struct Instance {
  std::string onnx, vnnlib, expected;
};

std::vector<Instance> instances() {
  std::vector<Instance> out;
  std::ifstream f(std::string(CHASSIS_SOURCE_DIR) + "/tests/data/vnncomp/expected.csv");
  std::string line;
  std::getline(f, line); // header
  while (std::getline(f, line)) {
    std::stringstream ss(line);
    Instance in;
    std::getline(ss, in.onnx, ',');
    std::getline(ss, in.vnnlib, ',');
    std::getline(ss, in.expected, ',');
    out.push_back(in);
  }
  return out;
}
} // namespace

TEST_CASE("VNN-COMP 2022 subset of each benchmark: expected verdicts", "[verifier][vnncomp]") {
  auto all = instances();
  REQUIRE(all.size() == 20);
  const std::string dir = std::string(CHASSIS_SOURCE_DIR) + "/tests/data/vnncomp/";
  int holds = 0, violated = 0;
  for (const Instance& in : all) {
    INFO(in.onnx << " " << in.vnnlib);
    auto network = neural::loadOnnx(dir + in.onnx);
    REQUIRE(network);
    auto net = neural::toAffineNet(*network);
    REQUIRE(net);
    auto p = spec::readVnnlib(dir + in.vnnlib);
    REQUIRE(p);
    verifier::NetVerifyOptions opt;
    opt.timeoutSec = 60; // generous for a loaded machine: each takes under 1 s on 2 idle cores but
                        // the oval21 one, 3.1 s
#if defined(__SANITIZE_ADDRESS__)
    opt.timeoutSec *= 5;
#endif
    auto r = verifier::verifyNetwork(*net, verifier::toNetworkQuery(*p), opt);
    REQUIRE(r);
    INFO("verdict " << verifier::vnncompName(r->verdict) << " in " << r->seconds << " s ("
                    << r->reason << ")");
    if (in.expected == "holds") {
      ++holds;
      CHECK(r->verdict == verifier::Verdict::Holds);
    } else {
      REQUIRE(in.expected == "violated");
      ++violated;
      REQUIRE(r->verdict == verifier::Verdict::Violated);
      auto cs = verifier::toCaseSpec(p->cases.at(r->caseIndex), p->numOutputs);
      CHECK(verifier::replays(*net, cs, r->x));
      Eigen::VectorXd y = network->forward(r->x);
      CHECK((cs.C * y - cs.d).maxCoeff() <= 0.0);
    }
  }
  CHECK(holds == 11);
  CHECK(violated == 9);
}
