// Unit tests of sizes from the data (spec/data_sizes.h): array lengths and loop bounds written as
// an int input's name take the value the run's data gives, in the checked AST and in the IR.
#include <catch2/catch.hpp>

#include "spec/frontend.h"
#include "spec/ir.h"
#include "spec/lower.h"

using namespace chassis;
using namespace chassis::spec;

namespace {

const char* kModel = R"(
module Mean(T: int, y: real[T]) -> (mu: real, fitted: real[T]) {
    mu ~ Normal(0.0, 10.0);
    var f: real[T];
    for t in 0..T {
        observe(Normal(mu, 1.0), y[t]);
        f[t] = mu;
    }
    fitted = f;
}
)";

} // namespace

TEST_CASE("a length written as an int input's name takes the data's value", "[spec][data]") {
  auto sizes = readDataSizes(R"({"T": 5, "y": [1, 2, 3, 4, 5], "J": 2})", "d.json");
  REQUIRE(sizes);
  DiagnosticEngine d;
  auto p = fromString(kModel, "t.chs", d, &*sizes);
  INFO(d.str());
  REQUIRE(p);
  const CallableDecl* m = p->findCallable("Mean");
  REQUIRE(m);
  CHECK(m->inputs[1]->type.str() == "real[5]");
  CHECK(m->outputs[1]->type.str() == "real[5]");
  REQUIRE(m->inputs[0]->range);
  CHECK(m->inputs[0]->range->lo == 5);
  CHECK(m->inputs[0]->range->hi == 5);

  auto ir = ir::lower(*p);
  REQUIRE(ir);
  const ir::Function* f = ir->findFunction("Mean");
  REQUIRE(f);
  CHECK(f->inputs()[1].var->type().length() == 5);

  // Another run, other data: the same program specialised to T = 2.
  auto two = readDataSizes(R"({"T": 2})", "d.json");
  REQUIRE(two);
  DiagnosticEngine d2;
  auto p2 = fromString(kModel, "t.chs", d2, &*two);
  REQUIRE(p2);
  CHECK(p2->findCallable("Mean")->inputs[1]->type.str() == "real[2]");
}

TEST_CASE("an --input value wins over the data file for a size", "[spec][data]") {
  auto sizes = readDataSizes(R"({"T": 5})", "d.json");
  REQUIRE(sizes);
  addInputSize(*sizes, "T", "3");
  DiagnosticEngine d;
  auto p = fromString(kModel, "t.chs", d, &*sizes);
  REQUIRE(p);
  CHECK(p->findCallable("Mean")->inputs[1]->type.str() == "real[3]");
}

TEST_CASE("sizes from the data: located errors", "[spec][data]") {
  auto errsWith = [](const std::string& json) {
    auto sizes = readDataSizes(json, "d.json");
    REQUIRE(sizes);
    DiagnosticEngine d;
    (void)fromString(kModel, "t.chs", d, &*sizes);
    return d.messages();
  };
  CHECK(errsWith(R"({"T": 3, "y": [1, 2]})") ==
        std::vector<std::string>{"t.chs:2:21: error: input 'y' has length T = 3, but the data "
                                 "file 'd.json' gives it 2 elements"});
  CHECK(errsWith(R"({"T": -4})") ==
        std::vector<std::string>{"t.chs:2:29: error: array length T = -4 (from the data file "
                                 "'d.json') must be at least 1"});
  CHECK(errsWith(R"({"T": [3]})") ==
        std::vector<std::string>{"t.chs:2:29: error: array length 'T' must be an integer, but "
                                 "the data file 'd.json' gives 'T' an array"});
  auto bad = readDataSizes("{\"T\": 3,\n  \"y\": [1, 2,}", "d.json");
  REQUIRE(!bad);
  CHECK(bad.error().str().rfind("d.json:2:", 0) == 0);
}
