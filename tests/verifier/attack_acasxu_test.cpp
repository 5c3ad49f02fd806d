// The falsification step (verifier/attack.h) alone on the violated instances of the VNN-COMP
// ACAS Xu benchmark (bench/acasxu/expected.csv says which: 47 of 186, mostly prop_2). The suite
// test runs the attack with a budget of 16384 starts and asserts that it finds a counterexample
// that replays (AffineNet in float64, and the ONNX graph itself) on every violated instance but the
// one no attack is known to find quickly (1_9/prop_7); the hidden [.attack-bench] test prints
// the time to the first counterexample of each instance (`test_verifier "[.attack-bench]" -s`).
#include "neural/network.h"
#include "neural/onnx.h"
#include "spec/vnnlib.h"
#include "verifier/attack.h"
#include "verifier/problem.h"
#include "verifier/vnnlib_query.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

using namespace chassis;

namespace {

struct Instance {
  std::string net, prop;
};

std::vector<Instance> violatedInstances() {
  std::vector<Instance> out;
  std::ifstream f(std::string(CHASSIS_SOURCE_DIR) + "/bench/acasxu/expected.csv");
  std::string line;
  while (std::getline(f, line)) {
    std::stringstream ss(line);
    std::string net, prop, verdict;
    std::getline(ss, net, ',');
    std::getline(ss, prop, ',');
    std::getline(ss, verdict, ',');
    if (verdict == "violated") out.push_back({net, prop});
  }
  return out;
}

struct Loaded {
  neural::Network network;
  neural::AffineNet net;
};

const Loaded& loadNet(const std::string& file) {
  static std::map<std::string, Loaded> cache;
  auto it = cache.find(file);
  if (it != cache.end()) return it->second;
  auto network = neural::loadOnnx(std::string(CHASSIS_SOURCE_DIR) + "/tests/data/acasxu/" + file);
  REQUIRE(network);
  auto net = neural::toAffineNet(*network);
  REQUIRE(net);
  return cache.emplace(file, Loaded{std::move(*network), std::move(*net)}).first->second;
}

std::vector<verifier::CaseSpec> loadCases(const std::string& file, int numOutputs) {
  auto p = spec::readVnnlib(std::string(CHASSIS_SOURCE_DIR) + "/tests/data/vnnlib/" + file);
  REQUIRE(p);
  std::vector<verifier::CaseSpec> cases;
  for (const auto& c : p->cases)
    cases.push_back(verifier::toCaseSpec(c, numOutputs));
  return cases;
}

/// The counterexample replays through the folded net and through the ONNX graph.
void checkReplays(const Loaded& L, const verifier::CaseSpec& cs, const Eigen::VectorXd& x) {
  CHECK(verifier::replays(L.net, cs, x));
  CHECK((x.array() >= cs.box.lo.array()).all());
  CHECK((x.array() <= cs.box.hi.array()).all());
  Eigen::VectorXd y = L.network.forward(x);
  CHECK((cs.C * y - cs.d).maxCoeff() <= 0.0);
}

/// Options for the benchmark from the environment (ATTACK_SAMPLES, ATTACK_ITERATIONS,
/// ATTACK_BATCH, ATTACK_STEP_HI, ATTACK_STEP_LO, ATTACK_ADAM), defaults otherwise.
verifier::AttackOptions envOptions() {
  verifier::AttackOptions o;
  if (const char* v = std::getenv("ATTACK_SAMPLES")) o.samples = std::atoi(v);
  if (const char* v = std::getenv("ATTACK_ITERATIONS")) o.iterations = std::atoi(v);
  if (const char* v = std::getenv("ATTACK_BATCH")) o.batch = std::atoi(v);
  if (const char* v = std::getenv("ATTACK_STEP_HI")) o.stepHi = std::atof(v);
  if (const char* v = std::getenv("ATTACK_STEP_LO")) o.stepLo = std::atof(v);
  if (const char* v = std::getenv("ATTACK_ADAM")) o.adam = std::atoi(v) != 0;
  if (const char* v = std::getenv("ATTACK_SWEEP_STARTS")) o.sweepStarts = std::atoi(v);
  if (const char* v = std::getenv("ATTACK_SWEEPS")) o.sweeps = std::atoi(v);
  if (const char* v = std::getenv("ATTACK_SWEEP_POINTS")) o.sweepPoints = std::atoi(v);
  return o;
}

/// Whether `name` contains one of the comma-separated substrings of `list`.
bool selected(const std::string& name, const std::string& list) {
  std::stringstream ss(list);
  std::string tok;
  while (std::getline(ss, tok, ','))
    if (!tok.empty() && name.find(tok) != std::string::npos) return true;
  return false;
}

} // namespace

TEST_CASE("attack: finds every violated ACAS Xu instance but 1_9/prop_7",
          "[verifier][attack][acasxu]") {
  auto instances = violatedInstances();
  REQUIRE(instances.size() == 47);
  int found = 0;
  for (const auto& in : instances) {
    if (in.net == "ACASXU_run2a_1_9_batch_2000.onnx" && in.prop == "prop_7.vnnlib") continue;
    INFO(in.net << " " << in.prop);
    const Loaded& L = loadNet(in.net);
    auto cases = loadCases(in.prop, L.net.outputSize());
    Rng rng(1);
    verifier::AttackOptions opt;
    opt.restarts = 16384; // a larger budget than the engine's pre-step (the engine goes on to BaB)
    auto r = verifier::falsifyCases(L.net, cases, opt, rng,
                                    std::chrono::steady_clock::now() + std::chrono::seconds(30));
    REQUIRE(r);
    REQUIRE(r->caseIndex >= 0);
    checkReplays(L, cases.at(r->caseIndex), r->x);
    ++found;
  }
  CHECK(found == 46);
}

TEST_CASE("attack: time to the first counterexample on the violated ACAS Xu instances",
          "[.attack-bench]") {
  auto instances = violatedInstances();
  double total = 0, worst = 0;
  int found = 0;
  std::printf("%-36s %8s %10s %6s\n", "instance", "ms", "evals", "found");
  const char* only = std::getenv("ATTACK_ONLY");
  const char* secs = std::getenv("ATTACK_SECONDS");
  for (const auto& in : instances) {
    if (only && !selected(in.net + " " + in.prop, only)) continue;
    const Loaded& L = loadNet(in.net);
    auto cases = loadCases(in.prop, L.net.outputSize());
    Rng rng(std::getenv("ATTACK_SEED") ? std::atoi(std::getenv("ATTACK_SEED")) : 1);
    verifier::AttackOptions opt = envOptions();
    opt.restarts = 1 << 20; // until found or the deadline
    auto t0 = std::chrono::steady_clock::now();
    auto r = verifier::falsifyCases(
        L.net, cases, opt, rng,
        t0 + std::chrono::milliseconds(static_cast<long>(1000 * (secs ? std::atof(secs) : 20.0))));
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (r) {
      checkReplays(L, cases.at(r->caseIndex), r->x);
      ++found;
      total += ms;
      worst = std::max(worst, ms);
    }
    std::string name = in.net.substr(13, 3) + " " + in.prop;
    std::printf("%-36s %8.1f %10ld %6s\n", name.c_str(), ms, r ? r->evaluations : 0L,
                r ? "yes" : "no");
    if (r && std::getenv("ATTACK_PRINT_X")) {
      for (Eigen::Index i = 0; i < r->x.size(); ++i)
        std::printf(" %.6f", r->x[i]);
      std::printf("\n");
    }
  }
  std::printf("found %d of %zu; total %.1f ms on the found ones, worst %.1f ms\n", found,
              instances.size(), total, worst);
}
