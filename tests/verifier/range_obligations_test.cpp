// Range obligations: a called module's declared input ranges are checked at
// each call site like an assert (verifier::verifyRangeObligations, `chassis verify`). Checks: a
// call whose arguments can leave the callee's range is `violated` at a counterexample on which
// the interpreter's own run (replayed here, independently of the verifier) fails with the
// callee's range error at that call; the path condition separates the two branches of an `if`;
// a call in a loop is checked over every iteration; calls that cannot break the range hold
// (also nonlinear, through a clipped random value, and under `?:` / `&&` guards);
// examples/braking.chs's Braking -> Controller call holds; the program is left unchanged; and the
// CLI reports the obligations in JSON with exit code 1 when one is violated, 0 when all hold.
#include "neural/lower_network.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "spec/rng.h"
#include "symbolic/interp.h"
#include "verifier/properties.h"

#include "chs_file_test_util.h"
#include "tests/symbolic/compile_chs.h"
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unordered_map>

using namespace chassis;
using namespace chassis::verifier;

namespace {

std::unique_ptr<ir::Program> loadR(const std::string& rel) {
  return testing::loadChsFile(rel);
}

/// The results of module `m` at source line `line`.
std::vector<const PropertyResult*> atLine(const std::vector<PropertyResult>& rs,
                                          const std::string& m, int line) {
  std::vector<const PropertyResult*> out;
  std::string prefix = "range@" + m + ":" + std::to_string(line) + ":";
  for (auto& r : rs)
    if (r.name.rfind(prefix, 0) == 0) out.push_back(&r);
  return out;
}

std::string cxValue(const PropertyResult& r, const std::string& name) {
  for (auto& [k, v] : r.counterexample)
    if (k == name) return v;
  FAIL("no counterexample value for " << name);
  return "";
}

/// Runs module `m` on its counterexample (inputs by name, every other entry a choice address)
/// with the interpreter; returns the run's error (empty when the run completes).
Error runOn(const ir::Program& p, const std::string& m, const PropertyResult& r) {
  const ir::Function* f = p.findFunction(m);
  REQUIRE(f);
  std::vector<symbolic::Value> inputs;
  for (const ir::Param& prm : f->inputs())
    inputs.push_back(symbolic::Value::scalar(std::stod(cxValue(r, prm.var->name()))));
  std::unordered_map<std::string, double> choices;
  for (auto& [k, v] : r.counterexample)
    if (f->inputIndex(k) < 0) choices[k] = std::stod(v);
  Rng rng(7);
  symbolic::RunOptions opt;
  opt.replay = &choices;
  auto res = symbolic::run(*f, inputs, rng, opt);
  if (res) return Error("");
  return res.error();
}

testing::CliRun verifyR(const std::string& args) {
  return testing::runChassis("verify " + args, "R");
}

} // namespace

TEST_CASE("range obligations: violated calls replay with the callee's range error",
          "[range-obligations][props]") {
  auto p = loadR("tests/data/verify/range_violated.chs");
  const ir::Function* clamp = p->findFunction("Clamp");
  REQUIRE(clamp);
  const ir::Block shiftedBody = p->findFunction("Shifted")->body();
  VerifyOptions o;
  o.timeoutSec = 20;
  auto rs = verifyRangeObligations(*p, o);
  // One obligation per ranged call: Shifted 1, Noisy 2, Looped 1, Guarded 1.
  CHECK(rs.size() == 5);

  // The program is restored: Clamp keeps its range, Shifted its body.
  REQUIRE(clamp->inputs()[0].range);
  CHECK(clamp->inputs()[0].range->first == 0);
  CHECK(clamp->inputs()[0].range->second == 10);
  CHECK(p->findFunction("Shifted")->body() == shiftedBody);

  SECTION("Shifted: u + 3 leaves [0, 10] for u > 7") {
    auto s = atLine(rs, "Shifted", 14);
    REQUIRE(s.size() == 1);
    INFO(s[0]->reason);
    REQUIRE(s[0]->verdict == Verdict::Violated);
    double u = std::stod(cxValue(*s[0], "u"));
    CHECK(u > 7);
    CHECK(u <= 8);
    Error e = runOn(*p, "Shifted", *s[0]);
    CHECK(e.message.find("outside its range [0, 10]") != std::string::npos);
    CHECK(e.loc.line == 14);
    CHECK(s[0]->valueAtCounterexample.find("outside its range") != std::string::npos);
  }
  SECTION("Noisy: the then-branch breaks the range, the else-branch cannot") {
    auto t = atLine(rs, "Noisy", 20);
    auto f = atLine(rs, "Noisy", 22);
    REQUIRE(t.size() == 1);
    REQUIRE(f.size() == 1);
    INFO(t[0]->reason);
    REQUIRE(t[0]->verdict == Verdict::Violated);
    CHECK(f[0]->verdict == Verdict::Holds);
    double a = std::stod(cxValue(*t[0], "a"));
    CHECK(a > 3);
    CHECK(a <= 4);
    Error e = runOn(*p, "Noisy", *t[0]);
    CHECK(e.message.find("outside its range") != std::string::npos);
    CHECK(e.loc.line == 20);
  }
  SECTION("Looped: the last iteration calls Clamp(15)") {
    auto l = atLine(rs, "Looped", 28);
    REQUIRE(l.size() == 1);
    INFO(l[0]->reason);
    REQUIRE(l[0]->verdict == Verdict::Violated);
    Error e = runOn(*p, "Looped", *l[0]);
    CHECK(e.message.find("= 15 is outside its range") != std::string::npos);
    CHECK(e.loc.line == 28);
  }
  SECTION("Guarded: `u <= 1 || Clamp(u + 3)` evaluates the call for u > 1") {
    auto g = atLine(rs, "Guarded", 33);
    REQUIRE(g.size() == 1);
    INFO(g[0]->reason);
    REQUIRE(g[0]->verdict == Verdict::Violated);
    double u = std::stod(cxValue(*g[0], "u"));
    CHECK(u > 7);
    Error e = runOn(*p, "Guarded", *g[0]);
    CHECK(e.message.find("outside its range [0, 10]") != std::string::npos);
    CHECK(e.loc.line == 33);
  }
}

TEST_CASE("range obligations: the program is only read (no new nodes; concurrent readers agree)",
          "[range-obligations][props]") {
  auto p = loadR("tests/data/verify/range_violated.chs");
  VerifyOptions o;
  o.timeoutSec = 20;
  // The obligations' assert nodes are built in a scratch Context, not in the program's arena.
  size_t before = p->ctx().numExprs();
  auto alone = verifyRangeObligations(*p, o);
  CHECK(p->ctx().numExprs() == before);
  // Two readers of the one (const) program at the same time: the same verdicts as alone, and
  // still no node added.
  const ir::Program& shared = *p;
  std::vector<PropertyResult> a, b;
  std::thread t1([&] { a = verifyRangeObligations(shared, o); });
  std::thread t2([&] { b = verifyRangeObligations(shared, o); });
  t1.join();
  t2.join();
  CHECK(p->ctx().numExprs() == before);
  REQUIRE(a.size() == alone.size());
  REQUIRE(b.size() == alone.size());
  for (size_t i = 0; i < alone.size(); ++i) {
    INFO(alone[i].name);
    CHECK(a[i].name == alone[i].name);
    CHECK(b[i].name == alone[i].name);
    CHECK(a[i].verdict == alone[i].verdict);
    CHECK(b[i].verdict == alone[i].verdict);
  }
}

TEST_CASE("range obligations: coarse enclosures are refined before `unknown`",
          "[range-obligations][props]") {
  // tanh(u) - u <= 1e-4 on [0, 1]: true, but 8 chords of tanh over [0, 1] admit more.
  auto p = testing::lowerChs("module Slack(d: real in [-1, 0.0001]) -> (y: real) { y = d; }\n"
                             "module Tight(u: real in [0, 1]) -> (z: real) {\n"
                             "    z = Slack(tanh(u) - u).y;\n"
                             "}\n");
  VerifyOptions o;
  o.timeoutSec = 30;
  auto rs = verifyRangeObligations(*p, o);
  REQUIRE(rs.size() == 1);
  INFO(rs[0].name << ": " << rs[0].method << " " << rs[0].reason);
  CHECK(rs[0].verdict == Verdict::Holds);
  CHECK(rs[0].method.find("enclosures of") != std::string::npos);
  CHECK(rs[0].method.find("enclosures of 8 pieces") == std::string::npos);
}

TEST_CASE("range obligations: calls inside the callee's ranges hold", "[range-obligations][props]") {
  auto p = loadR("tests/data/verify/range_holds.chs");
  VerifyOptions o;
  o.timeoutSec = 20;
  auto rs = verifyRangeObligations(*p, o);
  REQUIRE(rs.size() == 5);
  for (auto& r : rs) {
    INFO(r.name << ": " << r.reason);
    CHECK(r.verdict == Verdict::Holds);
    CHECK(r.counterexample.empty());
  }
  CHECK(atLine(rs, "Safe", 18).size() == 1);
  CHECK(atLine(rs, "Guarded", 23).size() == 1);
  CHECK(atLine(rs, "Squared", 27).size() == 1);
  // Calls guarded by `?:` and `&&`: checked only where the interpreter evaluates them.
  CHECK(atLine(rs, "Selected", 31).size() == 1);
  CHECK(atLine(rs, "Selected", 32).size() == 1);
}

TEST_CASE("range obligations: braking's Controller call holds (the clipped reading)",
          "[range-obligations][props]") {
  auto p = loadR("examples/braking.chs");
  VerifyOptions o;
  o.timeoutSec = 20;
  auto rs = verifyRangeObligations(*p, o);
  int braking = 0;
  for (auto& r : rs) {
    INFO(r.name << ": " << r.reason);
    CHECK(r.verdict == Verdict::Holds);
    if (r.name.rfind("range@Braking:", 0) == 0) ++braking;
  }
  CHECK(braking == 1);
}

TEST_CASE("chassis verify: range obligations in JSON and the exit code", "[range-obligations][cli]") {
  testing::CliRun v = verifyR("tests/data/verify/range_violated.chs --json");
  CHECK(v.code == 1);
  auto j = nlohmann::json::parse(v.out)["results"];
  int violated = 0, holds = 0;
  for (auto& o : j) {
    std::string name = o["property"];
    if (name.rfind("range@", 0) != 0) continue;
    if (o["verdict"] == "violated") {
      ++violated;
      // Looped has neither inputs nor choices: its counterexample is the run itself.
      if (name.rfind("range@Looped:", 0) != 0) CHECK(o.contains("counterexample"));
      CHECK(std::string(o["value_at_counterexample"]).find("outside its range") !=
            std::string::npos);
    }
    if (o["verdict"] == "holds") ++holds;
  }
  CHECK(violated == 4);
  CHECK(holds == 1);
  testing::CliRun h = verifyR("tests/data/verify/range_holds.chs --json");
  CHECK(h.code == 0);
  CHECK(nlohmann::json::parse(h.out)["results"].size() == 5);
}
