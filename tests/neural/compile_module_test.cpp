// compileModule (neural/compile_module.h): the structure of compiled networks (layers, labels,
// carries, the ground-truth mask), their values at hand-checked points (inside and outside the
// margin band), exactness on every integer / enum / bool input of the int, one-hot and parity
// modules, and located errors for what is not piecewise linear. The interpreter-based agreement
// and the verifier's proof are in tests/verifier/compiled_network_agreement_test.cpp.
#include "neural/compile_module.h"
#include "tests/symbolic/compile_chs.h"
#include "tests/verifier/chs_file_test_util.h"

#include <catch2/catch.hpp>

#include <memory>
#include <random>
#include <string>

using namespace chassis;
using namespace chassis::neural;

namespace {

CompiledNet compile(const ir::Program& p, const std::string& module, double margin = 1e-3,
                    bool prune = true) {
  const ir::Function* f = p.findFunction(module);
  REQUIRE(f);
  CompileOptions o;
  o.margin = margin;
  o.pruneOnDomain = prune;
  auto c = compileModule(p, *f, o);
  INFO((c ? "" : c.error().str()));
  REQUIRE(c);
  return std::move(*c);
}

Eigen::VectorXd at(const CompiledNet& c, std::initializer_list<double> x) {
  Eigen::VectorXd v(static_cast<Eigen::Index>(x.size()));
  Eigen::Index i = 0;
  for (double d : x)
    v(i++) = d;
  return c.net.forward(v);
}

Error compileError(const ir::Program& p, const std::string& module) {
  const ir::Function* f = p.findFunction(module);
  REQUIRE(f);
  auto c = compileModule(p, *f, CompileOptions{});
  REQUIRE_FALSE(c);
  return c.error();
}

} // namespace

TEST_CASE("compile-net: a comparator is two step units, exact outside its margin band",
          "[compile_module]") {
  auto p = testing::lowerChs("module Cmp(a: real in [0, 10], b: real in [0, 10]) -> (out: bool) {\n"
                             "    out = a <= b;\n}\n");
  const CompiledNet c = compile(*p, "Cmp");
  REQUIRE(c.inputNames == std::vector<std::string>{"a", "b"});
  REQUIRE(c.outputNames == std::vector<std::string>{"out=false", "out=true"});
  REQUIRE(c.inputLo == std::vector<double>{0, 0});
  REQUIRE(c.inputHi == std::vector<double>{10, 10});
  REQUIRE(c.numComparisons == 1);
  REQUIRE(c.net.layers.size() == 2);
  REQUIRE(c.net.layers[0].W.rows() == 2);
  REQUIRE(c.net.layers[0].relu);
  REQUIRE_FALSE(c.net.layers[1].relu);
  REQUIRE(c.neuronLabels.size() == 1);
  for (const std::string& l : c.neuronLabels[0])
    REQUIRE(l.find("step(a <= b)") != std::string::npos);
  // Logits [1 - b, b].
  REQUIRE(at(c, {3, 5}).isApprox(Eigen::Vector2d(0, 1)));
  REQUIRE(at(c, {5, 5}).isApprox(Eigen::Vector2d(0, 1)));     // t = 0: true
  REQUIRE(at(c, {5, 4.999}).isApprox(Eigen::Vector2d(1, 0))); // t = -m: false
  REQUIRE(at(c, {7, 2}).isApprox(Eigen::Vector2d(1, 0)));
  // Inside the band the value ramps: t = -m / 2 gives 0.5.
  REQUIRE(at(c, {5, 4.9995}).isApprox(Eigen::Vector2d(0.5, 0.5), 1e-6));
  // Every weight of this network is on an input-to-output path.
  long nonzero = 0;
  for (const auto& L : c.net.layers)
    nonzero += long((L.W.array() != 0).count());
  REQUIRE(countCircuitEdges(c) == nonzero);
  REQUIRE(countCircuitEdges(c) == 8);
}

TEST_CASE("compile-net: strict comparison and the margin option", "[compile_module]") {
  auto p = testing::lowerChs("module Lt(a: real in [0, 1], b: real in [0, 1]) -> (out: bool) {\n"
                             "    out = a < b;\n}\n");
  const CompiledNet c = compile(*p, "Lt", 0.01);
  REQUIRE(c.numComparisons == 1);
  REQUIRE(at(c, {0.5, 0.5})(1) == Approx(0).margin(1e-12));    // t = 0: false
  REQUIRE(at(c, {0.5, 0.51})(1) == Approx(1));                 // t = m: true
  REQUIRE(at(c, {0.5, 0.505})(1) == Approx(0.5).margin(1e-9)); // inside the band
  REQUIRE(at(c, {0.9, 0.2})(1) == Approx(0).margin(1e-12));
  // A margin that is not positive is refused.
  CompileOptions bad;
  bad.margin = 0;
  REQUIRE_FALSE(compileModule(*p, *p->findFunction("Lt"), bad));
}

TEST_CASE("compile-net: comparisons the bounds decide are constants and are not counted",
          "[compile_module]") {
  // u + 3 > 1 holds on the whole box, so the || is true and u <= 1 is not in the network.
  auto p = testing::lowerChs("module G(u: real in [0, 8]) -> (b: bool, c: bool) {\n"
                             "    b = u <= 1.0 || u + 3.0 > 1.0;\n    c = u >= -2.0;\n}\n");
  const CompiledNet c = compile(*p, "G");
  REQUIRE(c.numComparisons == 0);
  REQUIRE(c.net.layers.size() == 1);
  REQUIRE(at(c, {0.5}).isApprox(Eigen::Vector4d(0, 1, 0, 1)));
  REQUIRE(countCircuitEdges(c) == 0);
}

TEST_CASE("compile-net: int comparisons are exact at every integer and use no margin",
          "[compile_module]") {
  auto p = testing::lowerChs(
      "module I(a: int in [0, 10], b: int in [-3, 7]) -> (lt: bool, eq: bool, d: int) {\n"
      "    lt = a < b;\n    eq = a == b + 2;\n    d = (a + 2 * b) % 4 - a % 3;\n}\n");
  const CompiledNet c = compile(*p, "I");
  REQUIRE(c.numComparisons == 0);
  REQUIRE(c.outputNames.size() == 5);
  for (int a = 0; a <= 10; ++a)
    for (int b = -3; b <= 7; ++b) {
      const Eigen::VectorXd y = at(c, {double(a), double(b)});
      INFO("a = " << a << ", b = " << b);
      REQUIRE(y(1) == Approx(a < b ? 1 : 0).margin(1e-9));
      REQUIRE(y(0) == Approx(a < b ? 0 : 1).margin(1e-9));
      REQUIRE(y(3) == Approx(a == b + 2 ? 1 : 0).margin(1e-9));
      REQUIRE(y(4) == Approx(double((a + 2 * b) % 4 - a % 3)).margin(1e-9));
    }
}

TEST_CASE("compile-net: values needed later are carried, in pairs when their sign is unknown",
          "[compile_module]") {
  auto p =
      testing::lowerChs("module Deep(x: real in [0, 4], y: real in [-1, 1], w: real in [0, 1])\n"
                        "    -> (z: real) {\n"
                        "    z = relu(relu(x - 1.0) - 2.0) + y + 0.0 * w;\n}\n");
  const CompiledNet c = compile(*p, "Deep");
  REQUIRE(c.net.layers.size() == 3);
  // Layer 1: relu(x - 1) and the pair carrying y; w is multiplied by 0 and never read.
  REQUIRE(c.neuronLabels[0].size() == 3);
  REQUIRE(c.neuronLabels[0][0] == "relu(x - 1.0)");
  REQUIRE(c.neuronLabels[0][1] == "carry y");
  REQUIRE(c.neuronLabels[0][2] == "carry -y");
  REQUIRE(c.net.layers[0].W.col(2).isZero());
  REQUIRE_FALSE(c.groundTruth[0].col(2).any());
  std::mt19937 g(3);
  std::uniform_real_distribution<double> ux(0, 4), uy(-1, 1), uw(0, 1);
  for (int i = 0; i < 1000; ++i) {
    const double x = ux(g), y = uy(g), w = uw(g);
    REQUIRE(at(c, {x, y, w})(0) ==
            Approx(std::max(0.0, std::max(0.0, x - 1) - 2) + y).margin(1e-12));
  }
}

TEST_CASE("compile-net: max(x, y) - y is one unit and its ground truth is its nonzero pattern",
          "[compile_module]") {
  // Only the units the outputs need are laid out, and each reads a nonconstant affine form, so
  // every nonzero weight of a compiled network is on an input-to-output path.
  auto p = testing::lowerChs("module G(x: real in [-1, 1], y: real in [-1, 1]) -> (z: real) {\n"
                             "    z = max(x, y) - y;\n}\n");
  const CompiledNet c = compile(*p, "G");
  // max(x, y) - y = relu(x - y): one unit and the output.
  REQUIRE(c.net.layers.size() == 2);
  REQUIRE(c.net.layers[0].W.rows() == 1);
  REQUIRE(countCircuitEdges(c) == 3);
  for (size_t k = 0; k < c.net.layers.size(); ++k)
    REQUIRE((c.groundTruth[k].array() == (c.net.layers[k].W.array() != 0)).all());
}

TEST_CASE("compile-net: indexing and updating at an int variable is exact at integers",
          "[compile_module]") {
  auto p =
      testing::lowerChs("module Pick(x: real[4] in [-1, 1], i: int in [0, 3], j: int in [1, 2])\n"
                        "    -> (y: real, z: real[4]) {\n"
                        "    y = x[i];\n    var w: real[4] = x;\n    w[j] = 5.0;\n    z = w;\n}\n");
  const CompiledNet c = compile(*p, "Pick");
  REQUIRE(c.inputNames.size() == 6);
  REQUIRE(c.outputNames.size() == 5);
  std::mt19937 g(5);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int r = 0; r < 200; ++r)
    for (int i = 0; i < 4; ++i)
      for (int j = 1; j <= 2; ++j) {
        Eigen::VectorXd x(6);
        for (int k = 0; k < 4; ++k)
          x(k) = u(g);
        x(4) = i;
        x(5) = j;
        const Eigen::VectorXd y = c.net.forward(x);
        REQUIRE(y(0) == Approx(x(i)).margin(1e-12));
        for (int k = 0; k < 4; ++k)
          REQUIRE(y(1 + k) == Approx(k == j ? 5.0 : x(k)).margin(1e-12));
      }
}

TEST_CASE("compile-net: modular addition with one-hot enums is exact on all 25 pairs",
          "[compile_module]") {
  auto p = testing::loadChsFile("tests/data/compile/modadd.chs");
  // The construction is exact up to the 1e-9 widening of its big-M bounds; pruned on the 25
  // points of the domain, within kPruneTolerance.
  for (bool prune : {false, true}) {
    const CompiledNet c = compile(*p, "ModAdd", 1e-3, prune);
    INFO((prune ? "pruned" : "not pruned"));
    REQUIRE(c.inputNames == std::vector<std::string>{"a", "b"});
    REQUIRE(c.outputNames.size() == 5);
    REQUIRE(c.outputNames[3] == "c=Z3");
    REQUIRE(c.numComparisons == 0);
    CHECK(c.domainPoints == (prune ? 25 : 0));
    for (int a = 0; a < 5; ++a)
      for (int b = 0; b < 5; ++b) {
        const Eigen::VectorXd y = at(c, {double(a), double(b)});
        INFO("a = " << a << ", b = " << b << ", logits " << y.transpose());
        for (int k = 0; k < 5; ++k)
          REQUIRE(y(k) ==
                  Approx(k == (a + b) % 5 ? 1 : 0).margin(prune ? 2 * kPruneTolerance : 1e-8));
      }
  }
}

TEST_CASE("compile-net: pruning on a finite domain leaves only edges that each matter there",
          "[compile_module]") {
  auto p = testing::loadChsFile("tests/data/compile/modadd.chs");
  const CompiledNet full = compile(*p, "ModAdd", 1e-3, false);
  const CompiledNet c = compile(*p, "ModAdd");
  long fullEdges = 0, edges = 0;
  for (const AffineLayer& L : full.net.layers)
    fullEdges += long((L.W.array() != 0).count());
  for (const AffineLayer& L : c.net.layers)
    edges += long((L.W.array() != 0).count());
  // The nested selects of the one-hot chain read conditions their enclosing selects make
  // irrelevant: the construction has edges that compute nothing on the 25 inputs.
  CHECK(c.prunedEdges > 0);
  CHECK(edges < fullEdges);
  CHECK(countCircuitEdges(c) == edges);
  // Every edge left is needed: cutting it alone moves an output on some point by more than the
  // pruning tolerance.
  Eigen::MatrixXd X(25, 2);
  for (int a = 0; a < 5; ++a)
    for (int b = 0; b < 5; ++b)
      X.row(a * 5 + b) << a, b;
  const Eigen::MatrixXd ref = c.net.forwardBatch(X.transpose());
  for (size_t l = 0; l < c.net.layers.size(); ++l)
    for (Eigen::Index i = 0; i < c.net.layers[l].W.rows(); ++i)
      for (Eigen::Index j = 0; j < c.net.layers[l].W.cols(); ++j) {
        if (c.net.layers[l].W(i, j) == 0) continue;
        AffineNet cut = c.net;
        cut.layers[l].W(i, j) = 0;
        INFO("layer " << l << " edge " << i << " <- " << j);
        CHECK((cut.forwardBatch(X.transpose()) - ref).cwiseAbs().maxCoeff() > kPruneTolerance);
      }
  // Real inputs are not a finite domain: nothing is pruned.
  auto cmp = testing::loadChsFile("tests/data/compile/comparator.chs");
  CHECK(compile(*cmp, "Cmp").domainPoints == 0);
}

TEST_CASE("compile-net: 3-sparse parity over 8 bools is exact on all 256 inputs",
          "[compile_module]") {
  auto p = testing::loadChsFile("tests/data/compile/parity.chs");
  const CompiledNet c = compile(*p, "Parity");
  REQUIRE(c.inputNames.size() == 8);
  REQUIRE(c.inputNames[4] == "x[4]");
  for (int m = 0; m < 256; ++m) {
    Eigen::VectorXd x(8);
    for (int i = 0; i < 8; ++i)
      x(i) = (m >> i) & 1;
    const int parity = int(x(1) + x(4) + x(6)) % 2;
    const Eigen::VectorXd y = c.net.forward(x);
    REQUIRE(y(1) == Approx(parity).margin(1e-9));
    REQUIRE(y(0) == Approx(1 - parity).margin(1e-9));
  }
  // Only the three parity inputs have edges in the ground truth.
  for (int i = 0; i < 8; ++i)
    REQUIRE(c.groundTruth[0].col(i).any() == (i == 1 || i == 4 || i == 6));
}

TEST_CASE("compile-net: constructs that are not piecewise linear are located errors",
          "[compile_module]") {
  auto p = testing::loadChsFile("tests/data/compile/bad.chs");
  const Error prod = compileError(*p, "Product");
  REQUIRE(prod.message.find("x * y") != std::string::npos);
  REQUIRE(prod.message.find("is not piecewise linear") != std::string::npos);
  REQUIRE(prod.loc.line == 3);
  const Error ex = compileError(*p, "Expo");
  REQUIRE(ex.message.find("exp(a) is not piecewise linear") != std::string::npos);
  REQUIRE(ex.loc.line == 8);
  const Error noisy = compileError(*p, "Noisy");
  REQUIRE(noisy.message.find("not piecewise linear") != std::string::npos);
  REQUIRE(noisy.loc.line == 12);
  const Error div = compileError(*p, "DivVar");
  REQUIRE(div.message.find("division by a variable") != std::string::npos);
  REQUIRE(div.loc.line == 21);
  const Error range = compileError(*p, "NoRange");
  REQUIRE(range.message.find("needs a declared range") != std::string::npos);
  REQUIRE(range.loc.line == 16);
  REQUIRE(prod.loc.file.find("bad.chs") != std::string::npos);

  // A random module called from a deterministic one: the call is the located error.
  auto q = testing::lowerChs("module R(x: real in [0, 1]) -> (z: real) {\n"
                             "    n ~ Normal(0.0, 1.0);\n    z = x + n;\n}\n"
                             "module C(x: real in [0, 1]) -> (z: real) {\n"
                             "    let a = x + 1.0;\n    z = R(a).z;\n}\n");
  const Error call = compileError(*q, "C");
  REQUIRE(call.message.find("random module 'R'") != std::string::npos);
  REQUIRE(call.loc.line == 7);
}
