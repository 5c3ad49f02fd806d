// Tests of the VNN-LIB reader (spec/vnnlib.h): the ten ACAS Xu properties parse into the expected
// cases, `or` followed by further asserts is distributed as a conjunction, linear terms are
// normalised, and every malformed file in tests/data/vnnlib_bad/ gives exactly the diagnostic
// (text and location) in the .expected file beside it.
#include "spec/vnnlib.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

using chassis::spec::parseVnnlib;
using chassis::spec::readVnnlib;
using chassis::spec::VnnProperty;

namespace {
std::string dataDir() { return std::string(CHASSIS_SOURCE_DIR) + "/tests/data/"; }
std::string slurp(const std::string& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
VnnProperty mustParse(const std::string& text) {
  auto p = parseVnnlib(text, "t.vnnlib");
  if (!p) FAIL(p.error().str());
  return *p;
}
const char* kHeader = "(declare-const X_0 Real)\n(declare-const X_1 Real)\n"
                      "(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(declare-const Y_2 Real)\n";
} // namespace

TEST_CASE("vnnlib: every ACAS Xu property parses with the expected number of cases", "[vnnlib]") {
  const std::pair<int, size_t> expected[] = {{1, 1}, {2, 1}, {3, 1}, {4, 1}, {5, 4},
                                             {6, 8}, {7, 2}, {8, 3}, {9, 4}, {10, 4}};
  for (auto [prop, cases] : expected) {
    auto p = readVnnlib(dataDir() + "vnnlib/prop_" + std::to_string(prop) + ".vnnlib");
    INFO("prop_" << prop);
    REQUIRE(p);
    CHECK(p->numInputs == 5);
    CHECK(p->numOutputs == 5);
    CHECK(p->cases.size() == cases);
  }
}

TEST_CASE("vnnlib: prop_1 box and output bound", "[vnnlib]") {
  auto p = readVnnlib(dataDir() + "vnnlib/prop_1.vnnlib");
  REQUIRE(p);
  const auto& c = p->cases.at(0);
  CHECK(c.lo == std::vector<double>{0.6, -0.5, -0.5, 0.45, -0.5});
  CHECK(c.hi == std::vector<double>{0.679857769, 0.5, 0.5, 0.5, -0.45});
  REQUIRE(c.constraints.size() == 1);
  // (>= Y_0 3.991125645861615)  is  -Y_0 <= -3.991125645861615
  CHECK(c.constraints[0].coef == std::vector<double>{-1, 0, 0, 0, 0});
  CHECK(c.constraints[0].rhs == -3.991125645861615);
}

TEST_CASE("vnnlib: prop_3 compares outputs", "[vnnlib]") {
  auto p = readVnnlib(dataDir() + "vnnlib/prop_3.vnnlib");
  REQUIRE(p);
  const auto& c = p->cases.at(0);
  REQUIRE(c.constraints.size() == 4);
  for (int k = 0; k < 4; ++k) {
    // (<= Y_0 Y_{k+1})  is  Y_0 - Y_{k+1} <= 0
    std::vector<double> coef(5, 0.0);
    coef[0] = 1;
    coef[k + 1] = -1;
    CHECK(c.constraints[k].coef == coef);
    CHECK(c.constraints[k].rhs == 0.0);
  }
  CHECK(c.lo[2] == 0.493380324);
  CHECK(c.hi[2] == 0.5);
}

TEST_CASE("vnnlib: prop_4's point interval [0, 0] is +0", "[vnnlib]") {
  auto p = readVnnlib(dataDir() + "vnnlib/prop_4.vnnlib");
  REQUIRE(p);
  CHECK(p->cases[0].lo[2] == 0.0);
  CHECK(p->cases[0].hi[2] == 0.0);
  CHECK(!std::signbit(p->cases[0].hi[2]));
}

TEST_CASE("vnnlib: prop_6 distributes two boxes over four output disjuncts", "[vnnlib]") {
  auto p = readVnnlib(dataDir() + "vnnlib/prop_6.vnnlib");
  REQUIRE(p);
  REQUIRE(p->cases.size() == 8);
  for (int i = 0; i < 8; ++i) {
    const auto& c = p->cases[i];
    if (i < 4) {
      CHECK(c.lo[1] == 0.11140846);
      CHECK(c.hi[1] == 0.499999896);
    } else {
      CHECK(c.lo[1] == -0.499999896);
      CHECK(c.hi[1] == -0.11140846);
    }
    REQUIRE(c.constraints.size() == 1);
    // (<= Y_{k} Y_0), k = 1 + i % 4
    std::vector<double> coef(5, 0.0);
    coef[0] = -1;
    coef[1 + i % 4] = 1;
    CHECK(c.constraints[0].coef == coef);
  }
}

TEST_CASE("vnnlib: an (or ...) followed by further asserts is a conjunction", "[vnnlib]") {
  std::string text = std::string(kHeader) +
                     "(assert (or (and (>= X_0 0) (<= X_0 1)) (and (>= X_0 2) (<= X_0 3))))\n"
                     "(assert (<= X_1 5)) (assert (>= X_1 4))\n"
                     "(assert (or (<= Y_0 1) (<= Y_1 2)))\n"
                     "(assert (<= Y_2 3))\n";
  VnnProperty p = mustParse(text);
  REQUIRE(p.cases.size() == 4);
  for (const auto& c : p.cases) {
    // the later assert on X_1 applies to both boxes, Y_2 <= 3 to every case
    CHECK(c.lo[1] == 4.0);
    CHECK(c.hi[1] == 5.0);
    REQUIRE(c.constraints.size() == 2);
    CHECK(c.constraints[1].coef == std::vector<double>{0, 0, 1});
    CHECK(c.constraints[1].rhs == 3.0);
  }
  CHECK(p.cases[0].lo[0] == 0.0);
  CHECK(p.cases[0].constraints[0].coef == std::vector<double>{1, 0, 0});
  CHECK(p.cases[1].constraints[0].coef == std::vector<double>{0, 1, 0});
  CHECK(p.cases[2].lo[0] == 2.0);
  CHECK(p.cases[3].hi[0] == 3.0);
}

TEST_CASE("vnnlib: linear terms and chains are normalised", "[vnnlib]") {
  std::string text = std::string(kHeader) +
                     "; a comment (with parentheses\n"
                     "(assert (<= -1 X_0 1.5e0)) ; chain: -1 <= X_0 <= 1.5\n"
                     "(assert (>= (* 2 X_1) -4)) (assert (<= (* X_1 3) 3))\n"
                     "(assert (<= (+ (* 2 Y_0) (- Y_1) 1) (- Y_2 Y_0 0.5)))\n"
                     "(check-sat)\n";
  VnnProperty p = mustParse(text);
  REQUIRE(p.cases.size() == 1);
  const auto& c = p.cases[0];
  CHECK(c.lo[0] == -1.0);
  CHECK(c.hi[0] == 1.5);
  // bounds divided by |a| != 1 are widened by one ulp, outward
  CHECK(c.lo[1] == std::nextafter(-2.0, -INFINITY));
  CHECK(c.hi[1] == std::nextafter(1.0, INFINITY));
  REQUIRE(c.constraints.size() == 1);
  // 2 Y0 - Y1 + 1 <= Y2 - Y0 - 0.5   is   3 Y0 - Y1 - Y2 <= -1.5
  CHECK(c.constraints[0].coef == std::vector<double>{3, -1, -1});
  CHECK(c.constraints[0].rhs == -1.5);
}

TEST_CASE("vnnlib: a subnormal constant is read as written, not refused as arithmetic",
          "[vnnlib]") {
  // Moving a constant across `<=` negates it, which is exact at every magnitude; only products
  // that would underflow ((* 1e-170 1e-170 Y_0), tests/data/vnnlib_bad/) are refused.
  const std::string box = "(assert (<= X_0 1)) (assert (>= X_0 0))\n"
                          "(assert (<= X_1 1)) (assert (>= X_1 0))\n";
  VnnProperty p = mustParse(kHeader + box + "(assert (<= Y_1 9.999999999453e-311))\n" +
                            "(assert (>= Y_0 -5e-324))\n");
  REQUIRE(p.cases.size() == 1);
  REQUIRE(p.cases[0].constraints.size() == 2);
  CHECK(p.cases[0].constraints[0].rhs == 9.999999999453e-311);
  CHECK(p.cases[0].constraints[1].coef == std::vector<double>{-1, 0, 0});
  CHECK(p.cases[0].constraints[1].rhs == 5e-324);
  CHECK_FALSE(parseVnnlib(std::string(kHeader) + "(assert (>= (* 1e-170 1e-170 Y_0) 0))\n", "u"));
}

TEST_CASE("vnnlib: empty boxes and false atoms drop their case", "[vnnlib]") {
  std::string text = std::string(kHeader) +
                     "(assert (<= X_1 1)) (assert (>= X_1 0))\n"
                     "(assert (or (and (>= X_0 2) (<= X_0 1)) (and (>= X_0 0) (<= X_0 1) (<= 1 0))"
                     " (and (>= X_0 0) (<= X_0 1) (<= 0 1))))\n";
  VnnProperty p = mustParse(text);
  REQUIRE(p.cases.size() == 1);
  CHECK(p.cases[0].constraints.empty());
}

TEST_CASE("vnnlib: malformed files give their expected diagnostic", "[vnnlib]") {
  namespace fs = std::filesystem;
  int n = 0;
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(dataDir() + "vnnlib_bad"))
    if (e.path().extension() == ".vnnlib") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    INFO(f.filename().string());
    std::string expected = slurp(fs::path(f).replace_extension(".expected").string());
    REQUIRE(!expected.empty());
    while (!expected.empty() && expected.back() == '\n') expected.pop_back();
    auto p = parseVnnlib(slurp(f.string()), f.filename().string());
    REQUIRE(!p);
    CHECK(p.error().str() == expected);
    ++n;
  }
  CHECK(n >= 15);
}

TEST_CASE("vnnlib: a missing file is an error, not a crash", "[vnnlib]") {
  auto p = readVnnlib(dataDir() + "vnnlib/does_not_exist.vnnlib");
  REQUIRE(!p);
  CHECK(p.error().message == "cannot open file");
}

TEST_CASE("vnnlib: a box of 40,000 asserts with an output disjunction reads into its cases",
          "[vnnlib]") {
  // An image property (oval21: 3,072 inputs, 6,144 box asserts) is a long conjunction: each
  // assert must be appended in place, not by copying the conjunction built so far (quadratic:
  // this input took minutes so).
  const int n = 20000;
  std::string text;
  for (int i = 0; i < n; ++i)
    text += "(declare-const X_" + std::to_string(i) + " Real)\n";
  text += "(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n";
  for (int i = 0; i < n; ++i) {
    text += "(assert (>= X_" + std::to_string(i) + " -0." + std::to_string(i % 7 + 1) + "))\n";
    text += "(assert (<= X_" + std::to_string(i) + " 0." + std::to_string(i % 5 + 1) + "))\n";
  }
  text += "(assert (or (>= Y_0 Y_1) (<= Y_0 -3)))\n";
  VnnProperty p = mustParse(text);
  REQUIRE(p.numInputs == n);
  REQUIRE(p.cases.size() == 2);
  for (const auto& c : p.cases) {
    REQUIRE(c.lo.size() == static_cast<size_t>(n));
    CHECK(c.lo[0] == -0.1);
    CHECK(c.hi[0] == 0.1);
    CHECK(c.lo[n - 1] == -std::stod("0." + std::to_string((n - 1) % 7 + 1)));
    CHECK(c.hi[n - 1] == std::stod("0." + std::to_string((n - 1) % 5 + 1)));
    CHECK(c.constraints.size() == 1);
  }
}
