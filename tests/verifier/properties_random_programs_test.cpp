// Tests of the property checker (verifier/properties.h): exact probabilities of a finite discrete
// model, asserts, 300 random piecewise-linear programs whose verdicts are cross-checked against a
// dense grid evaluated by the interpreter, and a network + module composition. (The braking
// example and its seeded-bug copies are tested in properties_braking_test.cpp.)
#include "neural/lower_network.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/interp.h"
#include "verifier/properties.h"

#include "chs_file_test_util.h"

#include <catch2/catch.hpp>

#include <iostream>
#include <random>
#include <sstream>

using namespace chassis;
using namespace chassis::verifier;

namespace {

std::optional<ir::Program> loadText(const std::string& src) {
  spec::DiagnosticEngine diags;
  auto ast = spec::fromString(src, "random.chs", diags);
  if (!ast) {
    diags.print(std::cerr);
    return std::nullopt;
  }
  auto prog = ir::lower(*ast);
  if (!prog) return std::nullopt;
  return std::move(*prog);
}


} // namespace

TEST_CASE("exact probability of a finite discrete model; asserts", "[props]") {
  auto prog = loadText(R"(
module M() -> (a: bool, b: bool) {
    a ~ Bernoulli(0.3);
    b ~ Bernoulli(if a then 0.9 else 0.2);
}
module A(x: real in [0, 10]) -> (y: real) {
    y = x * 2.0;
    assert(y <= 20.0);
    assert(y <= 15.0);
}
property pb: P[M](b) <= 0.41;
property pb2: P[M](b) <= 0.40;
property pc: P[M](a | b) >= 0.65;
)");
  REQUIRE(prog);
  VerifyOptions o;
  // P(b) = 0.3 * 0.9 + 0.7 * 0.2 = 0.41; P(a | b) = 0.27 / 0.41 = 0.6585...
  auto r = verifyProperty(*prog, testing::propertyNamed(*prog, "pb"), o);
  CHECK(r.isInterval);
  CHECK(r.lo == Approx(0.41).epsilon(1e-9));
  CHECK(r.hi - r.lo < 1e-9); // VE's error allowance (prob_bounds.h): ~1e-11 here
  CHECK(r.lo <= 0.41);
  CHECK(r.hi >= 0.41);
  CHECK(r.verdict == Verdict::Unknown); // 0.41 <= 0.41 is not decided within rounding
  CHECK(verifyProperty(*prog, testing::propertyNamed(*prog, "pb2"), o).verdict == Verdict::Violated);
  auto rc = verifyProperty(*prog, testing::propertyNamed(*prog, "pc"), o);
  CHECK(rc.lo == Approx(0.27 / 0.41).epsilon(1e-9));
  CHECK(rc.verdict == Verdict::Holds);
  auto as = verifyAsserts(*prog, o);
  REQUIRE(as.size() == 2);
  CHECK(as[0].verdict == Verdict::Holds);
  CHECK(as[1].verdict == Verdict::Violated);
}

namespace {

/// A random piecewise-linear expression over x, y, z of depth <= d.
std::string randExpr(std::mt19937& g, int d) {
  std::uniform_int_distribution<int> pick(0, d <= 0 ? 1 : 8);
  auto cst = [&]() {
    std::uniform_int_distribution<int> c(-8, 8);
    std::ostringstream os;
    os << c(g) * 0.25;
    std::string s = os.str();
    if (s.find('.') == std::string::npos) s += ".0";
    return s;
  };
  const char* vars[] = {"x", "y", "z"};
  switch (pick(g)) {
  case 0:
    return vars[g() % 3];
  case 1:
    return "(" + cst() + ")";
  case 2:
    return "(" + randExpr(g, d - 1) + " + " + randExpr(g, d - 1) + ")";
  case 3:
    return "(" + randExpr(g, d - 1) + " - " + randExpr(g, d - 1) + ")";
  case 4:
    return "(" + cst() + " * " + randExpr(g, d - 1) + ")";
  case 5:
    return "min(" + randExpr(g, d - 1) + ", " + randExpr(g, d - 1) + ")";
  case 6:
    return "max(" + randExpr(g, d - 1) + ", " + randExpr(g, d - 1) + ")";
  case 7:
    return (g() % 2 ? "abs(" : "relu(") + randExpr(g, d - 1) + ")";
  default:
    return "(if " + randExpr(g, d - 1) + " <= " + randExpr(g, d - 1) + " then " +
           randExpr(g, d - 1) + " else " + randExpr(g, d - 1) + ")";
  }
}

} // namespace

TEST_CASE("300 random piecewise-linear programs: verdicts vs a dense grid", "[props][random]") {
  std::mt19937 g(12345);
  int holds = 0, violated = 0, disagreements = 0, total = 0;
  for (int t = 0; t < 300; ++t) {
    std::string e = randExpr(g, 3);
    std::uniform_int_distribution<int> cd(-8, 8);
    double c = cd(g) * 0.5;
    std::ostringstream src;
    src << "module F(x: real in [-2, 2], y: real in [-2, 2], z: real in [-2, 2]) -> (o: real) {\n"
        << "    o = " << e << ";\n}\n"
        << "property p: forall x in [-2, 2], y in [-2, 2], z in [-2, 2]: F(x, y, z).o <= "
        << (c < 0 ? "(" : "") << c << (c == std::floor(c) ? ".0" : "") << (c < 0 ? ")" : "")
        << ";\n";
    auto prog = loadText(src.str());
    REQUIRE(prog);
    ++total;
    const ir::Property& p = prog->properties[0];
    auto r = verifyProperty(*prog, p, VerifyOptions{});
    INFO(src.str());
    REQUIRE(r.verdict != Verdict::Internal);
    REQUIRE(r.verdict != Verdict::Unknown);
    // The grid: 9 points per axis, evaluated by the interpreter.
    bool gridViolates = false;
    std::vector<symbolic::Value> frame(size_t(p.numSlots));
    for (int i = 0; i <= 8 && !gridViolates; ++i)
      for (int j = 0; j <= 8 && !gridViolates; ++j)
        for (int k = 0; k <= 8 && !gridViolates; ++k) {
          frame[size_t(p.vars[0].var->slot())].s = -2 + 0.5 * i;
          frame[size_t(p.vars[1].var->slot())].s = -2 + 0.5 * j;
          frame[size_t(p.vars[2].var->slot())].s = -2 + 0.5 * k;
          auto v = symbolic::evaluate(p.body, frame, p.loc);
          REQUIRE(v);
          gridViolates = v->s == 0;
        }
    if (gridViolates && r.verdict == Verdict::Holds) ++disagreements;
    if (r.verdict == Verdict::Holds) ++holds;
    if (r.verdict == Verdict::Violated) {
      ++violated;
      CHECK(r.valueAtCounterexample == "false"); // replayed
    }
  }
  CHECK(disagreements == 0);
  CHECK(total == 300);
  CHECK(holds > 30); // both outcomes are exercised
  CHECK(violated > 30);
}

TEST_CASE("composition: a network feeding a symbolic decision, end to end", "[props]") {
  auto prog = testing::lowerChsFile(std::string(CHASSIS_SOURCE_DIR) + "/tests/data/verify/composition.chs");
  REQUIRE(prog);
  VerifyOptions o;
  auto r = verifyProperty(*prog, testing::propertyNamed(*prog, "agree"), o);
  CHECK(r.verdict == Verdict::Violated);
  CHECK(r.valueAtCounterexample == "false");
  CHECK(verifyProperty(*prog, testing::propertyNamed(*prog, "net_bounded"), o).verdict == Verdict::Holds);
}
