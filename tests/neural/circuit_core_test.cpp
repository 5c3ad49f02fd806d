// Circuits of an AffineNet (neural/circuit.h): zero/mean/resample ablation against an
// independent per-sample reference, materialisation, facts about full/empty circuits, neuron and
// size counts, the DOT rendering (parsed back) and the .chs rendering (parsed and lowered; it is
// run by the interpreter in tests/verifier/circuit_chs_roundtrip_test.cpp), and bad input.
#include "neural/circuit.h"
#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "spec/lower.h"

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <regex>
#include <set>
#include <stdexcept>
#include <tuple>

using namespace chassis;
using namespace chassis::neural;

namespace {

AffineNet randomNet(std::mt19937& rng, const std::vector<int>& sizes) {
  std::normal_distribution<double> N(0.0, 1.0);
  AffineNet net;
  net.inputSize = sizes[0];
  for (size_t k = 1; k < sizes.size(); ++k) {
    AffineLayer L;
    L.W = Eigen::MatrixXd::NullaryExpr(sizes[k], sizes[k - 1], [&] { return N(rng); });
    L.b = Eigen::VectorXd::NullaryExpr(sizes[k], [&] { return N(rng); });
    L.relu = k + 1 < sizes.size();
    net.layers.push_back(L);
  }
  return net;
}

Circuit randomCircuit(std::mt19937& rng, const AffineNet& net, Ablation a, double pKeep) {
  std::bernoulli_distribution keep(pKeep);
  Circuit c = emptyCircuit(net, a);
  for (EdgeMask& m : c.keep)
    m = EdgeMask::NullaryExpr(m.rows(), m.cols(), [&] { return keep(rng); });
  return c;
}

Eigen::MatrixXd randomData(std::mt19937& rng, int n, int d) {
  std::uniform_real_distribution<double> U(-2.0, 2.0);
  return Eigen::MatrixXd::NullaryExpr(n, d, [&] { return U(rng); });
}

/// The circuit's output on one sample, written straight from the definition: a cut edge (i, j)
/// of layer k carries 0, the mean of the full network's a_k(j) over `ref`, or the full network's
/// a_k(j) on the patch sample.
Eigen::VectorXd referenceCircuit(const AffineNet& net, const Circuit& c, const Eigen::MatrixXd& ref,
                                 const Eigen::VectorXd& x, const Eigen::VectorXd& xpatch) {
  std::vector<Eigen::VectorXd> mean;
  {
    std::vector<Eigen::VectorXd> sum;
    for (Eigen::Index r = 0; r < ref.rows(); ++r) {
      Eigen::VectorXd a = ref.row(r).transpose();
      for (size_t k = 0; k < net.layers.size(); ++k) {
        if (r == 0) sum.push_back(Eigen::VectorXd::Zero(a.size()));
        sum[k] += a;
        a = net.layers[k].W * a + net.layers[k].b;
        if (net.layers[k].relu) a = a.cwiseMax(0.0);
      }
    }
    for (Eigen::VectorXd& s : sum)
      mean.push_back(s / static_cast<double>(ref.rows()));
  }
  Eigen::VectorXd a = x, p = xpatch;
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const AffineLayer& L = net.layers[k];
    Eigen::VectorXd z = L.b;
    for (Eigen::Index i = 0; i < L.W.rows(); ++i)
      for (Eigen::Index j = 0; j < L.W.cols(); ++j) {
        double src = c.keep[k](i, j)                ? a(j)
                     : c.ablation == Ablation::Zero ? 0.0
                     : c.ablation == Ablation::Mean ? mean[k](j)
                                                    : p(j);
        z(i) += L.W(i, j) * src;
      }
    Eigen::VectorXd pz = L.W * p + L.b;
    if (L.relu) {
      z = z.cwiseMax(0.0);
      pz = pz.cwiseMax(0.0);
    }
    a = z;
    p = pz;
  }
  return a;
}

Eigen::MatrixXd netForward(const AffineNet& net, const Eigen::MatrixXd& X) {
  return net.forwardBatch(X.transpose()).transpose();
}

} // namespace

TEST_CASE("circuit: ablation names", "[circuit]") {
  for (Ablation a : {Ablation::Zero, Ablation::Mean, Ablation::Resample})
    CHECK(parseAblation(ablationName(a)) == a);
  CHECK(std::string(ablationName(Ablation::Resample)) == "resample");
  CHECK_FALSE(parseAblation("Mean"));
  CHECK_FALSE(parseAblation(""));
}

TEST_CASE("circuit: forward and materialize match the per-sample definition", "[circuit]") {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 6; ++trial) {
    AffineNet net = randomNet(rng, {4, 6, 5, 3});
    Eigen::MatrixXd X = randomData(rng, 25, 4), P = randomData(rng, 25, 4);
    ActivationStats stats = activationStats(net, X);
    for (Ablation a : {Ablation::Zero, Ablation::Mean, Ablation::Resample}) {
      Circuit c = randomCircuit(rng, net, a, 0.5);
      Eigen::MatrixXd out = circuitForward(net, c, stats, X, P);
      REQUIRE(out.rows() == 25);
      REQUIRE(out.cols() == 3);
      std::optional<AffineNet> m;
      if (a != Ablation::Resample) m = materialize(net, c, stats);
      for (Eigen::Index r = 0; r < X.rows(); ++r) {
        Eigen::VectorXd want =
            referenceCircuit(net, c, X, X.row(r).transpose(), P.row(r).transpose());
        INFO("ablation " << ablationName(a) << " row " << r);
        CHECK((out.row(r).transpose() - want).cwiseAbs().maxCoeff() < 1e-10);
        if (m) CHECK((m->forward(X.row(r).transpose()) - want).cwiseAbs().maxCoeff() < 1e-10);
      }
    }
  }
}

TEST_CASE("circuit: full circuit is the network, under every ablation", "[circuit]") {
  std::mt19937 rng(11);
  AffineNet net = randomNet(rng, {3, 8, 8, 2});
  Eigen::MatrixXd X = randomData(rng, 40, 3), P = randomData(rng, 40, 3);
  ActivationStats stats = activationStats(net, X);
  Eigen::MatrixXd want = netForward(net, X);
  for (Ablation a : {Ablation::Zero, Ablation::Mean, Ablation::Resample}) {
    Circuit c = fullCircuit(net, a);
    CHECK((circuitForward(net, c, stats, X, P) - want).cwiseAbs().maxCoeff() < 1e-12);
    if (a != Ablation::Resample) {
      AffineNet m = materialize(net, c, stats);
      for (size_t k = 0; k < net.layers.size(); ++k) {
        CHECK(m.layers[k].W == net.layers[k].W);
        CHECK(m.layers[k].b == net.layers[k].b);
      }
    }
  }
}

TEST_CASE("circuit: mean ablation of one edge moves its bias by W(i,j) * mean_j", "[circuit]") {
  std::mt19937 rng(3);
  AffineNet net = randomNet(rng, {5, 7, 4});
  Eigen::MatrixXd X = randomData(rng, 30, 5);
  ActivationStats stats = activationStats(net, X);
  REQUIRE(stats.mean.size() == 2);
  CHECK((stats.mean[0] - X.colwise().mean().transpose()).cwiseAbs().maxCoeff() < 1e-15);
  for (size_t k = 0; k < 2; ++k) {
    Circuit c = fullCircuit(net, Ablation::Mean);
    const Eigen::Index i = 2, j = 3;
    c.keep[k](i, j) = false;
    AffineNet m = materialize(net, c, stats);
    Eigen::VectorXd db = m.layers[k].b - net.layers[k].b;
    CHECK(db(i) == Approx(net.layers[k].W(i, j) * stats.mean[k](j)).epsilon(1e-14));
    db(i) = 0;
    CHECK(db.cwiseAbs().maxCoeff() == 0.0);
    CHECK(m.layers[k].W(i, j) == 0.0);
    Eigen::MatrixXd dW = m.layers[k].W - net.layers[k].W;
    dW(i, j) = 0;
    CHECK(dW.cwiseAbs().maxCoeff() == 0.0);
    // Zero ablation of the same edge leaves the bias alone.
    c.ablation = Ablation::Zero;
    CHECK(materialize(net, c, stats).layers[k].b == net.layers[k].b);
  }
}

TEST_CASE("circuit: resample with the data as its own patch is the full network", "[circuit]") {
  std::mt19937 rng(5);
  AffineNet net = randomNet(rng, {4, 6, 6, 3});
  Eigen::MatrixXd X = randomData(rng, 30, 4);
  ActivationStats stats = activationStats(net, X);
  Eigen::MatrixXd want = netForward(net, X);
  for (double p : {0.0, 0.3, 0.8}) {
    Circuit c = randomCircuit(rng, net, Ablation::Resample, p);
    CHECK((circuitForward(net, c, stats, X, X) - want).cwiseAbs().maxCoeff() < 1e-12);
  }
  // With another patch the empty circuit is the network on the patch.
  Eigen::MatrixXd P = randomData(rng, 30, 4);
  CHECK(
      (circuitForward(net, emptyCircuit(net, Ablation::Resample), stats, X, P) - netForward(net, P))
          .cwiseAbs()
          .maxCoeff() < 1e-12);
}

TEST_CASE("circuit: the empty circuit is constant: last layer at the ablated input", "[circuit]") {
  std::mt19937 rng(9);
  AffineNet net = randomNet(rng, {3, 5, 4, 2});
  net.layers.back().relu = true; // an activation on the output too
  Eigen::MatrixXd X = randomData(rng, 20, 3);
  ActivationStats stats = activationStats(net, X);
  const AffineLayer& last = net.layers.back();
  Eigen::VectorXd meanOut = (last.W * stats.mean.back() + last.b).cwiseMax(0.0);
  Eigen::VectorXd zeroOut = last.b.cwiseMax(0.0);
  Eigen::MatrixXd outMean = circuitForward(net, emptyCircuit(net, Ablation::Mean), stats, X);
  Eigen::MatrixXd outZero = circuitForward(net, emptyCircuit(net, Ablation::Zero), stats, X);
  for (Eigen::Index r = 0; r < X.rows(); ++r) {
    CHECK((outMean.row(r).transpose() - meanOut).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((outZero.row(r).transpose() - zeroOut).cwiseAbs().maxCoeff() == 0.0);
  }
}

TEST_CASE("circuit: neurons and size", "[circuit]") {
  AffineNet net;
  net.inputSize = 2;
  net.layers.push_back({Eigen::MatrixXd::Constant(3, 2, 1.0), Eigen::VectorXd::Zero(3), true});
  net.layers.push_back({Eigen::MatrixXd::Constant(2, 3, 2.0), Eigen::VectorXd::Zero(2), false});
  Circuit c = emptyCircuit(net, Ablation::Mean);
  c.keep[0](0, 0) = true; // into h0_0
  c.keep[1](1, 0) = true; // out of h0_0: in the circuit
  c.keep[0](1, 1) = true; // into h0_1 only: not in it
  c.keep[1](0, 2) = true; // out of h0_2 only: not in it
  std::vector<std::vector<bool>> n = circuitNeurons(net, c);
  REQUIRE(n.size() == 1);
  CHECK(n[0] == std::vector<bool>{true, false, false});
  CircuitSize s = circuitSize(net, c);
  CHECK(s.neurons == 1);
  CHECK(s.totalNeurons == 3);
  CHECK(s.edges == 4);
  CHECK(s.totalEdges == 12);
  CHECK(s.weightShare == Approx((1.0 + 1.0 + 2.0 + 2.0) / (6.0 + 12.0)));
  CircuitSize full = circuitSize(net, fullCircuit(net, Ablation::Zero));
  CHECK(full.neurons == 3);
  CHECK(full.edges == 12);
  CHECK(full.weightShare == 1.0);
  CHECK(circuitSize(net, emptyCircuit(net, Ablation::Zero)).weightShare == 0.0);
}

TEST_CASE("circuit: bad input throws a clear error", "[circuit]") {
  std::mt19937 rng(1);
  AffineNet net = randomNet(rng, {3, 4, 2});
  Eigen::MatrixXd X = randomData(rng, 5, 3);
  ActivationStats stats = activationStats(net, X);
  Circuit c = fullCircuit(net, Ablation::Mean);
  c.keep[1] = EdgeMask::Constant(2, 3, true);
  CHECK_THROWS_WITH(materialize(net, c, stats), Catch::Contains("edge mask of layer 1 is 2x3"));
  CHECK_THROWS_WITH(materialize(net, fullCircuit(net, Ablation::Resample), stats),
                    Catch::Contains("resample"));
  CHECK_THROWS_WITH(circuitForward(net, fullCircuit(net, Ablation::Resample), stats, X),
                    Catch::Contains("patch matrix"));
  CHECK_THROWS_WITH(activationStats(net, Eigen::MatrixXd(0, 3)), Catch::Contains("at least one"));
  CHECK_THROWS_WITH(activationStats(net, randomData(rng, 4, 2)), Catch::Contains("2 columns"));
  CHECK_THROWS_WITH(circuitChs(net, fullCircuit(net, Ablation::Mean), stats, "M", {"a"}, {}),
                    Catch::Contains("1 input names for 3 inputs"));
  CHECK_THROWS_AS(circuitChs(net, fullCircuit(net, Ablation::Resample), stats, "M", {}, {}),
                  std::invalid_argument);
}

TEST_CASE("circuit: DOT has the kept edges and no cut ones", "[circuit]") {
  std::mt19937 rng(13);
  AffineNet net = randomNet(rng, {3, 4, 2});
  Circuit c = randomCircuit(rng, net, Ablation::Mean, 0.4);
  std::string dot = circuitDot(net, c, {"speed", "dist \"m\"", "t"}, {"brake", "coast"});
  INFO(dot);
  CHECK(dot.rfind("digraph", 0) == 0);
  // Node lines: `N[label="..." ...]`; edge lines: `N->M [label="w" ...]`.
  std::map<std::string, std::string> label;
  std::regex nodeRe(R"re(^(\d+)\[label="((?:[^"\\]|\\.)*)")re");
  std::regex edgeRe(R"re(^(\d+)->(\d+) *\[label="([^"]*)")re");
  std::set<std::tuple<std::string, std::string, std::string>> edges;
  std::istringstream in(dot);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, edgeRe))
      edges.emplace(m[1], m[2], m[3]);
    else if (std::regex_search(line, m, nodeRe))
      label[m[1]] = m[2];
  }
  std::set<std::tuple<std::string, std::string, std::string>> named, want;
  for (const auto& [s, t, w] : edges)
    named.emplace(label.at(s), label.at(t), w);
  const std::vector<std::string> in0 = {"speed", "dist \\\"m\\\"", "t"}, out = {"brake", "coast"};
  for (size_t k = 0; k < 2; ++k)
    for (Eigen::Index i = 0; i < c.keep[k].rows(); ++i)
      for (Eigen::Index j = 0; j < c.keep[k].cols(); ++j) {
        if (!c.keep[k](i, j)) continue;
        char w[32];
        std::snprintf(w, sizeof w, "%.4g", net.layers[k].W(i, j));
        std::string src = k == 0 ? in0[j] : "h0_" + std::to_string(j);
        std::string dst = k == 1 ? out[i] : "h0_" + std::to_string(i);
        want.emplace(src, dst, w);
      }
  REQUIRE(want.size() == static_cast<size_t>(circuitSize(net, c).edges));
  CHECK(named == want);
  // Inputs and outputs are always drawn; the empty circuit has no edge.
  std::string emptyDot = circuitDot(net, emptyCircuit(net, Ablation::Zero), {}, {});
  CHECK(emptyDot.find("->") == std::string::npos);
  CHECK(emptyDot.find("label=\"x2\"") != std::string::npos);
  CHECK(emptyDot.find("label=\"y1\"") != std::string::npos);
}

TEST_CASE("circuit: .chs rendering parses and lowers, with only kept terms", "[circuit]") {
  AffineNet net;
  net.inputSize = 2;
  Eigen::MatrixXd W0(3, 2), W1(1, 3);
  W0 << 1.5, -2.0, 0.25, 4.0, 1.0, 1.0;
  W1 << 3.0, -1.0, 0.1;
  net.layers.push_back({W0, Eigen::Vector3d(0.5, -1.0, 0.0), true});
  net.layers.push_back({W1, Eigen::VectorXd::Constant(1, 2.0), false});
  Eigen::MatrixXd X(2, 2);
  X << 0.0, 1.0, 2.0, 3.0;
  ActivationStats stats = activationStats(net, X);
  Circuit c = fullCircuit(net, Ablation::Zero);
  c.keep[0](0, 1) = false;             // h0_0 reads x only
  c.keep[0].row(2).setConstant(false); // h0_2 constant relu(0) = 0: folded
  c.keep[1](0, 1) = false;             // h0_1 unused: not emitted
  std::string src = circuitChs(net, c, stats, "my circuit", {"x", "in"}, {"out"});
  INFO(src);
  CHECK(src.find("module my_circuit(x: real, in_: real) -> (out: real)") != std::string::npos);
  CHECK(src.find("let h0_0 = relu(1.5 * x + 0.5);") != std::string::npos);
  CHECK(src.find("h0_1") == std::string::npos);
  CHECK(src.find("h0_2") == std::string::npos);
  CHECK(src.find("out = 3.0 * h0_0 + 2.0;") != std::string::npos);
  spec::DiagnosticEngine diags;
  auto ast = spec::fromString(src, "circuit.chs", diags);
  INFO(diags.str());
  REQUIRE(ast);
  auto prog = ir::lower(*ast);
  REQUIRE(prog);
  CHECK(prog->findFunction("my_circuit") != nullptr);
}
