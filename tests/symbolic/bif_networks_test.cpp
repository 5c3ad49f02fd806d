// BIF reader and exact inference on real networks: cancer and survey (bnlearn) prior marginals
// and cancer's posterior under evidence against the reference answers in tests/data/bif (copied
// from the shared benchmark data), to 1e-9; the reader's error messages and locations; the
// network -> factors conversion; and the .chs writer.
#include "symbolic/bif.h"

#include "spec/rng.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>

using namespace chassis::symbolic;

namespace {

std::string dataPath(const std::string& name) {
  return std::string(CHASSIS_SOURCE_DIR) + "/tests/data/bif/" + name;
}

nlohmann::json readJson(const std::string& name) {
  std::ifstream in(dataPath(name));
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

// Runs VE with the evidence of `ref` and compares every marginal listed there and P(evidence).
void checkAgainst(const std::string& bif, const std::string& json) {
  auto net = readBifFile(dataPath(bif));
  REQUIRE(net);
  const nlohmann::json ref = readJson(json);
  std::vector<Observation> ev;
  for (auto& [var, state] : ref["evidence"].items()) {
    const int v = net->find(var);
    REQUIRE(v >= 0);
    const int s = net->findState(v, state.get<std::string>());
    REQUIRE(s >= 0);
    ev.push_back({v, s});
  }
  std::vector<VarId> query;
  for (auto& [var, dist] : ref["marginals"].items()) {
    const int v = net->find(var);
    REQUIRE(v >= 0);
    query.push_back(v);
  }
  REQUIRE(!query.empty());
  auto r = variableElimination(net->toFactorModel(), query, ev);
  REQUIRE(r);
  CHECK(std::abs(std::exp(r->logEvidence) - ref["P(evidence)"].get<double>()) < 1e-9);
  size_t i = 0, compared = 0;
  for (auto& [var, dist] : ref["marginals"].items()) {
    const int v = query[i];
    for (auto& [state, p] : dist.items()) {
      const int s = net->findState(v, state);
      REQUIRE(s >= 0);
      INFO(bif << ": P(" << var << " = " << state << ")");
      CHECK(std::abs(r->marginals[i][s] - p.get<double>()) < 1e-9);
      ++compared;
    }
    ++i;
  }
  CHECK(compared >= 7);
}

std::string parseError(const std::string& text) {
  auto r = parseBif(text, "t.bif");
  return r ? std::string("<parsed>") : r.error().str();
}

const char* kHeader = "network n { property x = 1; }\n"
                      "variable A { type discrete [ 2 ] { a0, a1 }; }\n"
                      "variable B { type discrete [ 3 ] { b0, b1, b2 }; }\n";

} // namespace

TEST_CASE("bif: cancer and survey prior marginals match the reference", "[bif]") {
  checkAgainst("cancer.bif", "cancer.marginals.json");
  checkAgainst("survey.bif", "survey.marginals.json");
}

TEST_CASE("bif: cancer posterior under Xray=positive, Dyspnoea=True", "[bif]") {
  checkAgainst("cancer.bif", "cancer.posterior_Xray=positive_Dyspnoea=True.json");
}

TEST_CASE("bif: parsed structure of cancer", "[bif]") {
  auto net = readBifFile(dataPath("cancer.bif"));
  REQUIRE(net);
  CHECK(net->name == "unknown");
  REQUIRE(net->vars.size() == 5);
  CHECK(net->vars[0].name == "Pollution");
  CHECK(net->vars[0].states == std::vector<std::string>{"low", "medium", "high"});
  const int c = net->find("Cancer");
  REQUIRE(c == 2);
  CHECK(net->cpts[c].parents == std::vector<int>{0, 1});
  // Row (medium, False) is row 1 * 2 + 1 = 3: P(Cancer = True | medium, False) = 0.001.
  CHECK(net->cpts[c].probs[3 * 2] == Approx(0.001).epsilon(1e-15));
  CHECK(net->cpts[c].probs[4 * 2 + 1] == Approx(0.95).epsilon(1e-15));
  auto order = net->topologicalOrder();
  REQUIRE(order);
  CHECK(*order == std::vector<int>{0, 1, 2, 3, 4});
  CHECK(net->find("Nope") == -1);
  CHECK(net->findState(c, "Maybe") == -1);
}

TEST_CASE("bif: comments, quotes, default rows, declaration order", "[bif]") {
  const std::string text = R"(// a comment
/* block
   comment */
probability ( "B" | A ) {
  (a0) 0.2, 0.3, 0.5;
  default 0.1, 0.1, 0.8;
}
variable A { type discrete [ 2 ] = { a0, a1 }; property p = "q"; }
variable B { type discrete [ 3 ] { b0, b1, b2 }; }
probability ( A ) { table 0.25 0.75; }
)";
  auto net = parseBif(text, "t.bif");
  REQUIRE(net);
  CHECK(net->cpts[1].probs == std::vector<double>{0.2, 0.3, 0.5, 0.1, 0.1, 0.8});
  CHECK(net->cpts[0].probs == std::vector<double>{0.25, 0.75});
}

TEST_CASE("bif: errors carry file:line:col", "[bif]") {
  const std::string h = kHeader;
  CHECK(parseError(h + "probability ( C ) { table 0.5, 0.5; }\n") ==
        "t.bif:4:15: error: unknown variable 'C'");
  CHECK(parseError(h + "probability ( A | C ) { (x) 0.5, 0.5; }\n") ==
        "t.bif:4:19: error: unknown variable 'C'");
  CHECK(parseError(h + "probability ( A ) { table 0.5, 0.25, 0.25; }\n"
                       "probability ( B ) { table 0.2, 0.3, 0.5; }\n") ==
        "t.bif:4:27: error: wrong number of probabilities for 'A': expected 2, got 3");
  CHECK(parseError(h + "probability ( A ) { table 0.5, 0.4; }\n") ==
        "t.bif:4:27: error: probabilities for 'A' sum to 0.9, not 1");
  CHECK(parseError(h +
                   "probability ( A ) { table 0.5, 0.5; }\n"
                   "probability ( B | A ) {\n  (a0) 0.2, 0.3, 0.5;\n  (a1) 0.2, 0.3, 0.4;\n}\n") ==
        "t.bif:7:8: error: probabilities for 'B' given (a1) sum to 0.9, not 1");
  CHECK(parseError(h + "probability ( A ) { table 0.5, 0.5; }\n"
                       "probability ( B | A ) {\n  (a0) 0.2, 0.3, 0.5;\n}\n") ==
        "t.bif:5:1: error: missing probabilities for 'B' given (a1)");
  CHECK(parseError(h + "probability ( A ) { table 0.5, 0.5; }\n"
                       "probability ( B | A ) {\n  (a2) 0.2, 0.3, 0.5;\n}\n") ==
        "t.bif:6:4: error: unknown state 'a2' of variable 'A'");
  CHECK(parseError(h + "variable A { type discrete [ 2 ] { x, y }; }\n") ==
        "t.bif:4:10: error: variable 'A' declared twice (first at line 2)");
  CHECK(parseError("variable A { type discrete [ 3 ] { x, y }; }\n") ==
        "t.bif:1:41: error: variable 'A' declares 3 states but lists 2");
  CHECK(parseError("variable A { type discrete [ 2 ] { x, x }; }\n") ==
        "t.bif:1:39: error: state 'x' listed twice in variable 'A'");
  CHECK(parseError("variable A { type discrete [ 2 ] { x, y } }\n") ==
        "t.bif:1:43: error: expected ';', got '}'");
  CHECK(parseError("variable A { type discrete [ 2 ] { x, y };\n") ==
        "t.bif:2:1: error: expected 'type', 'property' or '}', got end of file");
  CHECK(parseError("varible A { }\n") ==
        "t.bif:1:1: error: expected 'network', 'variable' or 'probability', got 'varible'");
  CHECK(parseError(h + "probability ( A ) { table 0.5, 0.5; }\n") ==
        "t.bif:3:10: error: variable 'B' has no probability block");
  CHECK(parseError(h + "probability ( A ) { table 0.5, 0.5; }\n"
                       "probability ( A ) { table 0.5, 0.5; }\n") ==
        "t.bif:5:15: error: second probability block for 'A'");
  CHECK(parseError(h + "probability ( A ) { table 1.5, -0.5; }\n") ==
        "t.bif:4:27: error: probability must be in [0, 1], got 1.5");
  CHECK(parseError(h + "probability ( A | B ) { (b0) 0.5, 0.5; (b1) 0.5, 0.5; (b2) 1, 0; }\n"
                       "probability ( B | A ) { (a0) 0.2, 0.3, 0.5; (a1) 1, 0, 0; }\n") ==
        "t.bif:2:10: error: the network has a cycle through 'A'");
  CHECK(parseError(h + "probability ( A ) { table 0.5, 0.5; }\n"
                       "probability ( B | A ) { table 0.2, 0.3, 0.5, 0.2, 0.3, 0.5; }\n") ==
        "t.bif:5:25: error: 'table' in a probability block with parents is not supported (its "
        "value order is ambiguous); write one '(states) p...;' row per parent assignment");
  {
    // A default row fills every combination of the parents' states: n binary parents of a
    // binary child are 2^(n+1) probabilities from a few hundred bytes. All CPTs together may hold
    // 2^21: with 20 parents they would hold 2^21 + 40, with 19, 2^20 + 38.
    auto withParents = [](int n) {
      std::string text, parents;
      for (int i = 0; i < n; ++i) {
        text += "variable V" + std::to_string(i) + " { type discrete [ 2 ] { a, b }; }\n";
        parents += (i ? ", V" : "V") + std::to_string(i);
      }
      text += "variable C { type discrete [ 2 ] { a, b }; }\n";
      for (int i = 0; i < n; ++i)
        text += "probability ( V" + std::to_string(i) + " ) { table 0.5, 0.5; }\n";
      return text + "probability ( C | " + parents + " ) { default 0.5, 0.5; }\n";
    };
    CHECK(parseError(withParents(20)) == "t.bif:42:1: error: the CPT of 'C' takes the network "
                                         "past 2097152 probabilities, the most the reader accepts");
    auto net = parseBif(withParents(19), "t.bif");
    REQUIRE(net);
    CHECK(net->cpts.back().probs.size() == (size_t(1) << 20));
  }
  CHECK(parseError("/* open") == "t.bif:1:1: error: unterminated comment");
  CHECK(parseError("") == "t.bif: error: no variables in the network");
  auto missing = readBifFile("/nonexistent/x.bif");
  REQUIRE(!missing);
  CHECK(missing.error().str() == "/nonexistent/x.bif: error: cannot open file");
}

TEST_CASE("bif: the .chs writer", "[bif]") {
  auto net = readBifFile(dataPath("cancer.bif"));
  REQUIRE(net);
  auto text = writeChs(*net, "Cancer", "cancer.bif");
  REQUIRE(text);
  const std::string& t = *text;
  CHECK(t.find("enum PollutionState { low, medium, high }") != std::string::npos);
  // The module gives way to the variable of the same name.
  CHECK(t.find("module CancerNet() -> (Pollution: PollutionState, Smoker: SmokerState, Cancer: "
               "CancerState, Xray: XrayState, Dyspnoea: DyspnoeaState) {") != std::string::npos);
  CHECK(t.find("    Pollution_i ~ Categorical([0.5, 0.4, 0.1]);") != std::string::npos);
  CHECK(t.find("    let Cancer_cpt = [0.03, 0.97, 0.001, 0.999, 0.03, 0.97, 0.001, 0.999, 0.05, "
               "0.95, 0.02, 0.98];") != std::string::npos);
  CHECK(t.find("    let Cancer_row = Pollution_i * 2 + Smoker_i;") != std::string::npos);
  CHECK(t.find("    Cancer_i ~ Categorical([Cancer_cpt[Cancer_row * 2], "
               "Cancer_cpt[Cancer_row * 2 + 1]]);") != std::string::npos);
  CHECK(t.find("    Cancer = if Cancer_i == 0 then CancerState.True else CancerState.False;") !=
        std::string::npos);
  // Parents are drawn before children.
  CHECK(t.find("Cancer_i ~") < t.find("Xray_i ~"));

  // Names that are not identifiers, keywords and clashes are rewritten and listed.
  const std::string odd = "variable in { type discrete [ 2 ] { 0-4, \"a b\" }; }\n"
                          "variable x.y { type discrete [ 1 ] { only }; }\n"
                          "probability ( in ) { table 0.5, 0.5; }\n"
                          "probability ( x.y | in ) { (0-4) 1; (\"a b\") 1; }\n";
  auto onet = parseBif(odd, "odd.bif");
  REQUIRE(onet);
  auto otext = writeChs(*onet, "odd", "odd.bif");
  REQUIRE(otext);
  CHECK(otext->find("enum in_State { s0_4, a_b }") != std::string::npos);
  CHECK(otext->find("//   variable in -> in_") != std::string::npos);
  CHECK(otext->find("//   variable x.y -> x_y") != std::string::npos);
  CHECK(otext->find("module odd() -> (in_: in_State, x_y: x_yState) {") != std::string::npos);
  CHECK(otext->find("    x_y = x_yState.only;") != std::string::npos);
}

TEST_CASE("bif: mutated input never crashes and errors are located", "[bif]") {
  std::ifstream in(dataPath("survey.bif"));
  REQUIRE(in);
  const std::string base((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  chassis::Rng rng(31337);
  const std::string alphabet = "{}[]()|,;= \n\"/*-.0123456789abcTruevariable";
  int parsed = 0, rejected = 0, located = 0;
  for (int t = 0; t < 3000; ++t) {
    std::string s = base;
    const int edits = 1 + int(rng.uniform() * 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t at = size_t(rng.uniform() * s.size());
      const double op = rng.uniform();
      if (op < 0.4) {
        s.erase(at, 1 + size_t(rng.uniform() * 3));
      } else if (op < 0.8) {
        s.insert(at, 1, alphabet[size_t(rng.uniform() * alphabet.size())]);
      } else {
        s[at] = alphabet[size_t(rng.uniform() * alphabet.size())];
      }
    }
    auto net = parseBif(s, "m.bif");
    if (!net) {
      ++rejected;
      located += net.error().loc.file == "m.bif" && !net.error().message.empty();
      continue;
    }
    ++parsed;
    // Whatever parses is a valid network: every CPT row sums to 1 and inference runs.
    auto r = variableElimination(net->toFactorModel(), {}, {});
    REQUIRE(r);
    CHECK(std::abs(r->logEvidence) < 1e-9);
    REQUIRE(writeChs(*net, "M", "m.bif"));
  }
  CHECK(rejected > 1000);
  CHECK(parsed > 10);
  CHECK(located == rejected);
}
