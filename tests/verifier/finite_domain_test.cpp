// Quantified properties over bools and enums decided by enumeration (verifier/finite_domain.h):
// every point's value proved over the reals; a violated property's counterexample and an exists
// property's witness are a point of the domain; properties that are not over a small finite
// domain are left to the Z3 path (nullopt); and verifyProperty gives the same verdicts either way.
#include "verifier/finite_domain.h"

#include "tests/symbolic/compile_chs.h"
#include "verifier/properties.h"

#include <catch2/catch.hpp>

#include <string>

using namespace chassis;
using namespace chassis::verifier;

namespace {

const char* kModel = R"(
enum Mode { Off, Low, High }
module Xor3(a: bool, b: bool, c: bool) -> (odd: bool) {
    odd = (a != b) != c;
}
module Level(m: Mode, boost: bool) -> (power: real) {
    let base = if m == Mode.Off then 0.0 else (if m == Mode.Low then 1.0 else 2.5);
    power = if boost then base * 2.0 else base;
}
)";

std::unique_ptr<ir::Program> program(const std::string& property) {
  return testing::lowerChs(std::string(kModel) + property);
}

std::string text(const PropertyResult& r) {
  std::string s = std::string(verdictName(r.verdict)) + " (" + r.reason + ")";
  for (const auto& [k, v] : r.counterexample)
    s += " " + k + "=" + v;
  return s;
}

} // namespace

TEST_CASE("enumeration decides properties over bools and enums, each point proved",
          "[verifier][enumeration]") {
  VerifyOptions o;
  o.timeoutSec = 60;
  SECTION("holds: flipping any input flips the parity (8 points)") {
    auto p = program("property flips: forall a in bool, b in bool, c in bool: "
                     "Xor3(a, b, c).odd != Xor3(!a, b, c).odd;");
    auto r = verifyByEnumeration(*p, p->properties[0], o);
    REQUIRE(r);
    INFO(text(*r));
    CHECK(r->verdict == Verdict::Holds);
    CHECK(r->method.find("8 points") != std::string::npos);
  }
  SECTION("violated: the first point of the domain where the body is false") {
    auto p = program("property never_odd: forall a in bool, b in bool, c in bool: "
                     "!Xor3(a, b, c).odd;");
    auto r = verifyByEnumeration(*p, p->properties[0], o);
    REQUIRE(r);
    INFO(text(*r));
    CHECK(r->verdict == Verdict::Violated);
    // The last variable varies fastest: (false, false, true) is the first odd point.
    REQUIRE(r->counterexample.size() == 3);
    CHECK(r->counterexample[0].second == "false");
    CHECK(r->counterexample[1].second == "false");
    CHECK(r->counterexample[2].second == "true");
    CHECK(r->valueAtCounterexample == "false");
  }
  SECTION("enums: holds and violated, the counterexample named by its constant") {
    auto p = program("property bounded: forall m in Mode, b in bool: Level(m, b).power <= 5.0;\n"
                     "property small: forall m in Mode, b in bool: Level(m, b).power < 4.0;");
    auto h = verifyByEnumeration(*p, p->properties[0], o);
    REQUIRE(h);
    CHECK(h->verdict == Verdict::Holds);
    auto v = verifyByEnumeration(*p, p->properties[1], o);
    REQUIRE(v);
    INFO(text(*v));
    CHECK(v->verdict == Verdict::Violated);
    REQUIRE(v->counterexample.size() == 2);
    CHECK(v->counterexample[0].second == "High");
    CHECK(v->counterexample[1].second == "true");
  }
  SECTION("exists: a witness, or none") {
    auto p = program("property some: exists m in Mode: Level(m, false).power == 1.0;\n"
                     "property none: exists m in Mode: Level(m, true).power == 1.0;");
    auto w = verifyByEnumeration(*p, p->properties[0], o);
    REQUIRE(w);
    CHECK(w->verdict == Verdict::Holds);
    REQUIRE(w->counterexample.size() == 1);
    CHECK(w->counterexample[0].second == "Low");
    auto n = verifyByEnumeration(*p, p->properties[1], o);
    REQUIRE(n);
    CHECK(n->verdict == Verdict::Violated);
    CHECK(n->counterexample.empty());
  }
  SECTION("the same verdicts through verifyProperty") {
    auto p = program("property flips: forall a in bool, b in bool, c in bool: "
                     "Xor3(a, b, c).odd != Xor3(!a, b, c).odd;\n"
                     "property small: forall m in Mode, b in bool: Level(m, b).power < 4.0;");
    CHECK(verifyProperty(*p, p->properties[0], o).verdict == Verdict::Holds);
    CHECK(verifyProperty(*p, p->properties[1], o).verdict == Verdict::Violated);
  }
}

TEST_CASE("enumeration leaves other properties to the Z3 path", "[verifier][enumeration]") {
  VerifyOptions o;
  o.timeoutSec = 30;
  // A real variable: not a finite domain.
  auto r =
      program("property real_var: forall x in [0, 1], b in bool: Level(Mode.Low, b).power >= x;");
  CHECK_FALSE(verifyByEnumeration(*r, r->properties[0], o));
  CHECK_FALSE(enumerable(*r, r->properties[0], o));
  // 2^13 = 8192 points: more than kMaxEnumeratedPoints.
  std::string vars;
  for (int i = 0; i < 13; ++i)
    vars += std::string(i ? ", " : "") + "b" + std::to_string(i) + " in bool";
  auto big = program("property many: forall " + vars + ": Xor3(b0, b1, b12).odd || true;");
  CHECK_FALSE(enumerable(*big, big->properties[0], o));
  // Alternating quantifiers.
  auto alt = program("property alt: forall a in bool: exists b in bool: Xor3(a, b, false).odd;");
  CHECK_FALSE(enumerable(*alt, alt->properties[0], o));
  // SMT-LIB export wants the Z3 query.
  auto p = program("property flips: forall a in bool: Xor3(a, a, a).odd == a;");
  o.emitSmt2 = true;
  CHECK_FALSE(enumerable(*p, p->properties[0], o));
}
