// Verdicts at exact ties (spec/LANGUAGE.md §8, "Exact ties"): comparisons are decided on the exact
// real values, so where both sides are equal `<=`/`>=`/`==` are true and `<`/`>`/`!=` false. Checked
// for `chassis verify`'s Z3 path (forall, exists), for the network engine on a ReLU network whose
// maximum over the box equals the bound exactly (dyadic weights: the maximum 0.75 is a double),
// and for VNN-LIB, whose unsafe set is closed: a point on the bound is `sat`, a bound one ulp
// past the maximum `unsat`.
#include "tests/verifier/scratch_dir_test_util.h"
#include "neural/network.h"
#include "neural/onnx.h"
#include "spec/vnnlib.h"
#include "verifier/network_verifier.h"
#include "verifier/vnnlib_query.h"
#include "verifier/properties.h"
#include "verifier/z3_encoder.h"

#include "chs_file_test_util.h"
#include "tests/symbolic/compile_chs.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace chassis;
using namespace chassis::verifier;
namespace fs = std::filesystem;

namespace {

PropertyResult verifyNamed(const ir::Program& prog, const std::string& name) {
  for (const ir::Property& p : prog.properties)
    if (p.name == name) {
      VerifyOptions o;
      o.timeoutSec = 30;
      return verifyProperty(prog, p, o);
    }
  FAIL("no property " << name);
  return {};
}

std::string cx(const PropertyResult& r, const std::string& var) {
  for (auto& [k, v] : r.counterexample)
    if (k == var) return v;
  return "";
}

std::string scratchDir() {
  return testing::scratchDirectory("ties");
}

/// y = relu(0.5 a + 0.25 b) + relu(0.25 a - 0.5 b): on [0, 1]^2 its maximum is 0.75 exactly, at
/// (1, 0) and (1, 1) (and along the edge a = 1, b in [0.5, 1] it is 0.5 + 0.25 b).
neural::Network tieNetwork() {
  Eigen::MatrixXd W1(2, 2), W2(2, 2);
  W1 << 0.5, 0.25, 0.25, -0.5;
  W2 << 1, 1, -1, -1; // y[1] = -y[0]
  return neural::makeMlp({W1, W2}, {Eigen::VectorXd::Zero(2), Eigen::VectorXd::Zero(2)});
}

} // namespace

TEST_CASE("exact ties: verify decides comparisons on the exact real values", "[ties][properties]") {
  auto prog = testing::lowerChs("property le: forall x in [0, 1]: x * x <= 1.0;\n"
                                "property lt: forall x in [0, 1]: x * x < 1.0;\n"
                                "property ge_witness: exists x in [0, 1]: x * x >= 1.0;\n"
                                "property gt_witness: exists x in [0, 1]: x * x > 1.0;\n"
                                "property eq_sum: forall x in [0, 1]: x + x == 2.0 * x;\n");
  PropertyResult le = verifyNamed(*prog, "le");
  INFO(le.reason);
  CHECK(le.verdict == Verdict::Holds);
  PropertyResult lt = verifyNamed(*prog, "lt");
  INFO(lt.reason);
  CHECK(lt.verdict == Verdict::Violated);
  CHECK(std::stod(cx(lt, "x")) == 1.0); // the tie itself is the counterexample
  PropertyResult ge = verifyNamed(*prog, "ge_witness");
  INFO(ge.reason);
  CHECK(ge.verdict == Verdict::Holds);
  CHECK(std::stod(cx(ge, "x")) == 1.0);
  CHECK(verifyNamed(*prog, "gt_witness").verdict == Verdict::Violated); // no witness
  CHECK(verifyNamed(*prog, "eq_sum").verdict == Verdict::Holds);
}

TEST_CASE("exact ties: the network engine at a maximum equal to the bound", "[ties][netprops]") {
  std::string onnx = scratchDir() + "/tie.onnx";
  REQUIRE(neural::saveOnnx(tieNetwork(), onnx));
  std::string chs = scratchDir() + "/tie.chs";
  std::ofstream(chs) << "network Net(x: real[2]) -> (y: real[2]) = onnx(\"tie.onnx\");\n"
                        "property le: forall a in [0, 1], b in [0, 1]: Net([a, b]).y[0] <= 0.75;\n"
                        "property lt: forall a in [0, 1], b in [0, 1]: Net([a, b]).y[0] < 0.75;\n"
                        "property ge: forall a in [0, 1], b in [0, 1]: Net([a, b]).y[0] >= 0.0;\n"
                        "property below: forall a in [0, 1], b in [0, 1]: "
                        "Net([a, b]).y[0] <= 0.7499999999999999;\n";
  auto prog = testing::loadChsFile(chs);
  // `<=`: the unsafe set y > 0.75 is strict; the engine relaxes it to y >= 0.75, finds the tie
  // point (1, 0) there, and leaves the boundary to the exact path, which proves the property.
  PropertyResult le = verifyNamed(*prog, "le");
  INFO("le: " << le.method << " " << le.reason);
  CHECK(le.verdict == Verdict::Holds);
  // The minimum 0 is reached at (0, 0): `>=` holds there too.
  CHECK(verifyNamed(*prog, "ge").verdict == Verdict::Holds);
  for (const char* name : {"lt", "below"}) {
    PropertyResult r = verifyNamed(*prog, name);
    INFO(name << ": " << r.method << " " << r.reason);
    CHECK(r.verdict == Verdict::Violated);
    // The unsafe set y >= bound is closed: the network engine decides it itself.
    CHECK(r.method.find("network engine") != std::string::npos);
    // At the counterexample the output is >= the bound: a = 1 and b = 0 or b >= 0.5 (exactly 0.75
    // only at b = 0 and b = 1; `below` admits b within an ulp's reach as well).
    double a = std::stod(cx(r, "a")), b = std::stod(cx(r, "b"));
    Eigen::VectorXd x(2);
    x << a, b;
    double y = tieNetwork().forward(x)[0];
    CHECK(y >= (std::string(name) == "lt" ? 0.75 : 0.7499999999999999));
  }
}

TEST_CASE("exact ties: a VNN-LIB point on the bound is in the (closed) unsafe set",
          "[ties][vnnlib]") {
  neural::Network net = tieNetwork();
  auto folded = neural::toAffineNet(net);
  REQUIRE(folded);
  auto run = [&](const std::string& bound) {
    std::string path = scratchDir() + "/tie.vnnlib";
    std::ofstream(path) << "(declare-const X_0 Real)\n(declare-const X_1 Real)\n"
                           "(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n"
                           "(assert (>= X_0 0)) (assert (<= X_0 1))\n"
                           "(assert (>= X_1 0)) (assert (<= X_1 1))\n"
                           "(assert (>= Y_0 "
                        << bound << "))\n";
    auto prop = spec::readVnnlib(path);
    REQUIRE(prop);
    NetVerifyOptions o;
    o.timeoutSec = 30;
    auto res = verifyNetwork(*folded, toNetworkQuery(*prop), o);
    REQUIRE(res);
    return std::pair{*res, *prop};
  };
  auto [tie, tieProp] = run("0.75");
  REQUIRE(tie.verdict == Verdict::Violated);
  // Exactly on the bound, in exact arithmetic as in float64.
  CaseSpec cs = toCaseSpec(tieProp.cases.at(tie.caseIndex), tieProp.numOutputs);
  CHECK(net.forward(tie.x)[0] == 0.75);
  CHECK(Z3Encoder(*folded).checkPoint(cs, tie.x, 10).status == Verdict::Violated);
  auto [past, pastProp] = run("0.7500000000000001");
  INFO(past.reason);
  CHECK(past.verdict == Verdict::Holds);
}
