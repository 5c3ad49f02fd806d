// A network standing in for a module's output (tasks/stand_in.h): the properties written about the
// module are checked, unchanged, on the network, and the verdicts follow the network's function.
#include "tasks/stand_in.h"

#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "symbolic/interp.h"
#include "verifier/properties.h"

#include <catch2/catch.hpp>

using namespace chassis;

namespace {

spec::Program loadBraking(spec::DiagnosticEngine& diags) {
  auto ast = spec::loadProgram(std::string(CHASSIS_SOURCE_DIR) + "/examples/braking.chs", diags);
  INFO(diags.str());
  REQUIRE(ast);
  return std::move(*ast);
}

/// Two logits [0, t - reading]: brakes exactly when reading < t (speed ignored).
neural::AffineNet brakeBelow(double t) {
  neural::AffineNet net;
  net.inputSize = 2;
  neural::AffineLayer L1; // h = relu(t - reading)
  L1.W = Eigen::MatrixXd{{-1.0, 0.0}};
  L1.b = Eigen::VectorXd::Constant(1, t);
  L1.relu = true;
  neural::AffineLayer L2; // y = [0, h]
  L2.W = Eigen::MatrixXd{{0.0}, {1.0}};
  L2.b = Eigen::VectorXd::Zero(2);
  net.layers = {L1, L2};
  return net;
}

verifier::Verdict verdictOf(const ir::Program& prog, const std::string& name) {
  for (const ir::Property& p : prog.properties)
    if (p.name == name) {
      verifier::VerifyOptions o;
      o.timeoutSec = 20;
      return verifier::verifyProperty(prog, p, o).verdict;
    }
  FAIL("no property " << name);
  return verifier::Verdict::Internal;
}

} // namespace

TEST_CASE("a network stands in for Controller.brake in the braking properties",
          "[tasks][stand-in]") {
  spec::DiagnosticEngine diags;
  spec::Program ast = loadBraking(diags);

  auto good = tasks::lowerWithStandIn(ast, "Controller", "brake", brakeBelow(12.0));
  INFO((good ? "" : good.error().str()));
  REQUIRE(good);
  // The stand-in is what `Controller` names now; the original is kept as Controller'reference.
  const ir::Function* C = good->findFunction("Controller");
  REQUIRE(C);
  CHECK(C->doc.find("network standing in") != std::string::npos);
  REQUIRE(good->findFunction("Controller'reference"));
  {
    Rng rng(1);
    std::vector<symbolic::Value> in{symbolic::Value::scalar(11.5), symbolic::Value::scalar(3.0)};
    auto out = symbolic::run(*C, in, rng);
    REQUIRE(out);
    CHECK(out->outputs[0].s == 1.0);
    in[0] = symbolic::Value::scalar(12.5);
    out = symbolic::run(*C, in, rng);
    REQUIRE(out);
    CHECK(out->outputs[0].s == 0.0);
  }
  // reading < 12 brakes on all of [0, 10]: holds; monotone in reading: holds.
  CHECK(verdictOf(*good, "brakes_when_close") == verifier::Verdict::Holds);
  CHECK(verdictOf(*good, "monotone_in_distance") == verifier::Verdict::Holds);

  auto bad = tasks::lowerWithStandIn(ast, "Controller", "brake", brakeBelow(6.0));
  REQUIRE(bad);
  CHECK(verdictOf(*bad, "brakes_when_close") == verifier::Verdict::Violated);
}

TEST_CASE("a network that does not fit the module is a located error", "[tasks][stand-in]") {
  spec::DiagnosticEngine diags;
  spec::Program ast = loadBraking(diags);
  neural::AffineNet three = brakeBelow(1.0);
  three.inputSize = 3;
  three.layers[0].W = Eigen::MatrixXd{{-1.0, 0.0, 0.0}};
  auto r = tasks::lowerWithStandIn(ast, "Controller", "brake", three);
  REQUIRE_FALSE(r);
  CHECK(r.error().str().find("the network takes 3 inputs but module 'Controller' has 2") !=
        std::string::npos);
  CHECK(r.error().loc.line > 0);
}
