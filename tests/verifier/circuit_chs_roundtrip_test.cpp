// A circuit rendered as .chs (neural::circuitChs) is an ordinary module: it is checked and
// lowered by the front end, the interpreter's run of it equals the materialised circuit
// (neural::materialize) on sample inputs, and the verifier decides properties about it: an upper
// bound above every value the circuit can take on the box holds, one below a value it takes at a
// sample is violated. Here (not in tests/neural) because it needs the interpreter and verifier.
#include "neural/circuit.h"
#include "spec/rng.h"
#include "symbolic/interp.h"
#include "verifier/properties.h"

#include "tests/symbolic/compile_chs.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <random>

using namespace chassis;
using namespace chassis::neural;

namespace {

AffineNet randomNet(std::mt19937& rng) {
  std::normal_distribution<double> N(0.0, 1.0);
  const std::vector<int> sizes = {3, 6, 5, 2};
  AffineNet net;
  net.inputSize = sizes[0];
  for (size_t k = 1; k < sizes.size(); ++k)
    net.layers.push_back(
        {Eigen::MatrixXd::NullaryExpr(sizes[k], sizes[k - 1], [&] { return N(rng); }),
         Eigen::VectorXd::NullaryExpr(sizes[k], [&] { return N(rng); }), k + 1 < sizes.size()});
  return net;
}

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

} // namespace

TEST_CASE("circuit .chs: the interpreter's run equals the materialised circuit", "[circuit]") {
  std::mt19937 rng(19);
  std::uniform_real_distribution<double> U(-1.0, 1.0);
  std::bernoulli_distribution keep(0.5);
  for (int trial = 0; trial < 8; ++trial) {
    AffineNet net = randomNet(rng);
    Eigen::MatrixXd X = Eigen::MatrixXd::NullaryExpr(30, 3, [&] { return U(rng); });
    ActivationStats stats = activationStats(net, X);
    Ablation a = trial % 2 ? Ablation::Mean : Ablation::Zero;
    Circuit c = emptyCircuit(net, a);
    for (EdgeMask& m : c.keep)
      m = EdgeMask::NullaryExpr(m.rows(), m.cols(), [&] { return keep(rng); });
    if (trial == 0) c = fullCircuit(net, a);
    AffineNet m = materialize(net, c, stats);
    std::string src =
        circuitChs(net, c, stats, "Circuit", {"speed", "gap", "if"}, {"brake", "2nd"});
    INFO(src);
    CHECK(src.find(
              "module Circuit(speed: real, gap: real, if_: real) -> (brake: real, v_2nd: real)") !=
          std::string::npos);
    auto prog = testing::lowerChs(src);
    const ir::Function* f = prog->findFunction("Circuit");
    REQUIRE(f);
    for (Eigen::Index r = 0; r < X.rows(); ++r) {
      std::vector<symbolic::Value> in;
      for (Eigen::Index j = 0; j < 3; ++j)
        in.push_back(symbolic::Value::scalar(X(r, j)));
      Rng seed(0);
      auto run = symbolic::run(*f, in, seed);
      REQUIRE(run);
      Eigen::VectorXd want = m.forward(X.row(r).transpose());
      REQUIRE(run->outputs.size() == 2);
      for (int o = 0; o < 2; ++o)
        CHECK(run->outputs[o].s == Approx(want(o)).margin(1e-12).epsilon(1e-12));
    }
  }
}

TEST_CASE("circuit .chs: the verifier decides bounds on the circuit", "[circuit]") {
  std::mt19937 rng(23);
  AffineNet net = randomNet(rng);
  std::uniform_real_distribution<double> U(0.0, 1.0);
  Eigen::MatrixXd X = Eigen::MatrixXd::NullaryExpr(400, 3, [&] { return U(rng); });
  ActivationStats stats = activationStats(net, X);
  std::bernoulli_distribution keep(0.6);
  Circuit c = emptyCircuit(net, Ablation::Mean);
  for (EdgeMask& m : c.keep)
    m = EdgeMask::NullaryExpr(m.rows(), m.cols(), [&] { return keep(rng); });
  AffineNet m = materialize(net, c, stats);
  // A crude upper bound by interval arithmetic over [0,1]^3, and the largest sampled value.
  Eigen::VectorXd lo = Eigen::VectorXd::Zero(3), hi = Eigen::VectorXd::Ones(3);
  for (const AffineLayer& L : m.layers) {
    Eigen::MatrixXd Wp = L.W.cwiseMax(0.0), Wn = L.W.cwiseMin(0.0);
    Eigen::VectorXd nlo = Wp * lo + Wn * hi + L.b, nhi = Wp * hi + Wn * lo + L.b;
    if (L.relu) {
      nlo = nlo.cwiseMax(0.0);
      nhi = nhi.cwiseMax(0.0);
    }
    lo = nlo;
    hi = nhi;
  }
  double sampledMax = -INFINITY;
  for (Eigen::Index r = 0; r < X.rows(); ++r)
    sampledMax = std::max(sampledMax, m.forward(X.row(r).transpose())(0));
  REQUIRE(sampledMax < hi(0));
  std::string src = circuitChs(net, c, stats, "Circuit", {}, {}) +
                    "property bounded: forall x0 in [0, 1], x1 in [0, 1], x2 in [0, 1]: "
                    "Circuit(x0, x1, x2).y0 <= " +
                    num(hi(0) + 1e-6) +
                    ";\n"
                    "property below_sample: forall x0 in [0, 1], x1 in [0, 1], x2 in [0, 1]: "
                    "Circuit(x0, x1, x2).y0 <= " +
                    num(sampledMax - 1e-3) + ";\n";
  INFO(src);
  auto prog = testing::lowerChs(src);
  REQUIRE(prog->properties.size() == 2);
  verifier::VerifyOptions opts;
  auto holds = verifier::verifyProperty(*prog, prog->properties[0], opts);
  INFO(holds.reason);
  CHECK(holds.verdict == verifier::Verdict::Holds);
  auto violated = verifier::verifyProperty(*prog, prog->properties[1], opts);
  INFO(violated.reason);
  CHECK(violated.verdict == verifier::Verdict::Violated);
  CHECK_FALSE(violated.counterexample.empty());
}
