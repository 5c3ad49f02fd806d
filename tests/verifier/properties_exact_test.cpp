// Discrete probability properties are exact (verifier/prob_bounds.h, method 1: variable
// elimination over the model's factor graph). The Bayesian networks of tests/data/bif (cancer,
// survey) are converted to .chs by symbolic::writeChs (the `chassis import-bif` path); P[...]
// properties over them -- every marginal, conditionals, conjunctions -- are compared with the
// BIF reference marginals (tests/data/bif/*.json, computed by pgmpy) and with symbolic's variable
// elimination run directly on the network's CPTs, to 1e-9; the verdict of `<= p` is checked just
// above (holds) and just below (violated) the exact value. A 200-step Markov chain (2^200
// traces) is decided exactly, which enumeration could never do.
#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/bif.h"
#include "symbolic/ve.h"
#include "verifier/properties.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>

using namespace chassis;
using namespace chassis::verifier;

namespace {

std::unique_ptr<ir::Program> lowerText(const std::string& src) {
  spec::DiagnosticEngine diags;
  auto ast = spec::fromString(src, "bn.chs", diags);
  INFO(diags.str());
  REQUIRE(ast);
  auto prog = ir::lower(*ast);
  INFO((prog ? "" : prog.error().str()));
  REQUIRE(prog);
  return std::make_unique<ir::Program>(std::move(*prog));
}

std::string num17(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17f", x);
  return buf;
}

/// A network as .chs, with the .chs spelling of each variable's "X == state k" test.
struct BnChs {
  symbolic::BayesNet net;
  std::string text, module;
  std::vector<std::vector<std::string>> is; // is[v][k]: "(Out == Enum.const)"

  std::string event(std::initializer_list<std::pair<int, int>> conj) const {
    std::string s;
    for (auto [v, k] : conj)
      s += (s.empty() ? "" : " && ") + is[size_t(v)][size_t(k)];
    return s;
  }
};

BnChs loadBn(const std::string& name) {
  BnChs b;
  auto net = symbolic::readBifFile(std::string(CHASSIS_SOURCE_DIR) + "/tests/data/bif/" + name);
  REQUIRE(net);
  b.net = *net;
  b.module = "Net";
  auto text = symbolic::writeChs(b.net, b.module, name);
  REQUIRE(text);
  b.text = *text;
  // The output names and enum constants as written (writeChs may rename): read them back.
  auto prog = lowerText(b.text);
  const ir::Function* f = nullptr;
  for (auto& fp : prog->functions())
    if (fp->name() == b.module) f = fp.get();
  REQUIRE(f);
  REQUIRE(f->outputs().size() == b.net.vars.size());
  for (size_t v = 0; v < b.net.vars.size(); ++v) {
    const ir::Var* out = f->outputs()[v];
    CHECK(out->name().rfind(b.net.vars[v].name.substr(0, 1), 0) == 0);
    const auto& en = prog->ctx().enums()[size_t(out->type().enumId)];
    REQUIRE(en.constants.size() == b.net.vars[v].states.size());
    std::vector<std::string> row;
    for (const std::string& c : en.constants)
      row.push_back("(" + out->name() + " == " + en.name + "." + c + ")");
    b.is.push_back(row);
  }
  return b;
}

/// The reference, by VE on the network's own CPTs: P(conj) or P(conj | given).
double reference(const symbolic::BayesNet& net, std::vector<std::pair<int, int>> conj,
                 std::vector<std::pair<int, int>> given) {
  auto fm = net.toFactorModel();
  auto logp = [&](const std::vector<std::pair<int, int>>& ev) {
    std::vector<symbolic::Observation> obs;
    for (auto [v, k] : ev)
      obs.push_back({v, k});
    auto r = symbolic::variableElimination(fm, {}, obs);
    REQUIRE(r);
    return r->logEvidence;
  };
  auto both = conj;
  both.insert(both.end(), given.begin(), given.end());
  return std::exp(logp(both) - (given.empty() ? 0.0 : logp(given)));
}

struct Case {
  std::string event, given;
  double exact;
};

/// Checks each case's P[...] against `exact` to 1e-9, and `<= exact +- 1e-9`'s verdict.
void checkCases(const BnChs& b, const std::vector<Case>& cases) {
  std::string src = b.text;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    std::string pe =
        "P[" + b.module + "](" + c.event + (c.given.empty() ? "" : " | " + c.given) + ")";
    src += "property v" + std::to_string(i) + ": " + pe + " <= 2.0;\n";
    src +=
        "property above" + std::to_string(i) + ": " + pe + " <= " + num17(c.exact + 1e-9) + ";\n";
    src +=
        "property below" + std::to_string(i) + ": " + pe + " <= " + num17(c.exact - 1e-9) + ";\n";
  }
  auto prog = lowerText(src);
  VerifyOptions o;
  size_t k = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    INFO(cases[i].event << " | " << cases[i].given << " exact " << c.exact);
    const ir::Property& pv = prog->properties[3 * i];
    REQUIRE(pv.name == "v" + std::to_string(i));
    auto r = verifyProperty(*prog, pv, o);
    INFO(r.reason << " / " << r.method);
    REQUIRE(r.isInterval);
    CHECK(r.method.find("variable elimination") != std::string::npos);
    CHECK(r.lo <= r.hi);
    CHECK(r.hi - r.lo < 1e-10);
    CHECK(std::fabs(0.5 * (r.lo + r.hi) - c.exact) < 1e-9);
    CHECK(r.verdict == Verdict::Holds);
    auto ra = verifyProperty(*prog, prog->properties[3 * i + 1], o);
    CHECK(ra.verdict == Verdict::Holds);
    auto rb = verifyProperty(*prog, prog->properties[3 * i + 2], o);
    CHECK(rb.verdict == Verdict::Violated);
    ++k;
  }
  CHECK(k == cases.size());
}

nlohmann::json readJson(const std::string& rel) {
  std::ifstream in(std::string(CHASSIS_SOURCE_DIR) + "/tests/data/bif/" + rel);
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

} // namespace

TEST_CASE("cancer: P[...] exact against the BIF marginals and VE on the CPTs", "[properties][exact]") {
  BnChs b = loadBn("cancer.bif");
  std::vector<Case> cases;
  // Every marginal, against pgmpy's figures.
  nlohmann::json marg = readJson("cancer.marginals.json")["marginals"];
  for (size_t v = 0; v < b.net.vars.size(); ++v)
    for (size_t k = 0; k < b.net.vars[v].states.size(); ++k) {
      double ref = marg[b.net.vars[v].name][b.net.vars[v].states[k]].get<double>();
      CHECK(std::fabs(ref - reference(b.net, {{int(v), int(k)}}, {})) < 1e-12);
      cases.push_back({b.is[v][k], "", ref});
    }
  // The posterior given Xray = positive, Dyspnoea = True, against pgmpy's figures.
  int X = b.net.find("Xray"), D = b.net.find("Dyspnoea"), C = b.net.find("Cancer"),
      S = b.net.find("Smoker"), Pn = b.net.find("Pollution");
  int xp = b.net.findState(X, "positive"), dt = b.net.findState(D, "True");
  nlohmann::json post = readJson("cancer.posterior_Xray=positive_Dyspnoea=True.json")["marginals"];
  std::string given = b.event({{X, xp}, {D, dt}});
  for (int v : {Pn, S, C})
    for (size_t k = 0; k < b.net.vars[size_t(v)].states.size(); ++k) {
      double ref = post[b.net.vars[size_t(v)].name][b.net.vars[size_t(v)].states[k]].get<double>();
      cases.push_back({b.is[size_t(v)][k], given, ref});
    }
  // Conjunctions, a disjunction and a conditional on a conjunction, against VE on the CPTs.
  cases.push_back({b.event({{S, 0}, {C, 0}}), "", reference(b.net, {{S, 0}, {C, 0}}, {})});
  cases.push_back(
      {b.event({{Pn, 2}, {X, 0}, {D, 1}}), "", reference(b.net, {{Pn, 2}, {X, 0}, {D, 1}}, {})});
  cases.push_back({b.event({{C, 0}}), b.event({{S, 0}, {Pn, 2}}),
                   reference(b.net, {{C, 0}}, {{S, 0}, {Pn, 2}})});
  cases.push_back(
      {b.event({{S, 0}, {C, 1}}), b.event({{X, 0}}), reference(b.net, {{S, 0}, {C, 1}}, {{X, 0}})});
  cases.push_back({b.is[size_t(C)][0] + " || " + b.is[size_t(X)][0], "",
                   1 - reference(b.net, {{C, 1}, {X, 1}}, {})});
  checkCases(b, cases);
}

TEST_CASE("survey: P[...] exact against the BIF marginals and VE on the CPTs", "[properties][exact]") {
  BnChs b = loadBn("survey.bif");
  std::vector<Case> cases;
  nlohmann::json marg = readJson("survey.marginals.json")["marginals"];
  for (size_t v = 0; v < b.net.vars.size(); ++v)
    for (size_t k = 0; k < b.net.vars[v].states.size(); ++k) {
      double ref = marg[b.net.vars[v].name][b.net.vars[v].states[k]].get<double>();
      cases.push_back({b.is[v][k], "", ref});
    }
  int A = b.net.find("A"), S = b.net.find("S"), E = b.net.find("E"), T = b.net.find("T"),
      R = b.net.find("R");
  REQUIRE(A >= 0);
  REQUIRE(E >= 0);
  cases.push_back(
      {b.event({{T, 1}}), b.event({{A, 0}, {S, 1}}), reference(b.net, {{T, 1}}, {{A, 0}, {S, 1}})});
  cases.push_back({b.event({{A, 2}}), b.event({{T, 2}}), reference(b.net, {{A, 2}}, {{T, 2}})});
  cases.push_back(
      {b.event({{E, 0}, {R, 1}, {T, 0}}), "", reference(b.net, {{E, 0}, {R, 1}, {T, 0}}, {})});
  checkCases(b, cases);
}

TEST_CASE("a 200-step Markov chain is exact (2^200 traces: no enumeration)", "[properties][exact]") {
  auto prog = lowerText(R"(
module Chain() -> (x: bool[200], last: bool) {
    var prev: bool = false;
    for i in 0..200 {
        x[i] ~ Bernoulli(if prev then 0.9 else 0.2);
        prev = x[i];
    }
    last = prev;
}
property p_last: P[Chain](last) <= 2.0;
property e_last: E[Chain](if last then 3.0 else -1.0) <= 10.0;
)");
  // The chain's distribution after n steps: p_{n+1} = 0.9 p_n + 0.2 (1 - p_n), p_0 = 0.
  double pn = 0;
  for (int i = 0; i < 200; ++i)
    pn = 0.9 * pn + 0.2 * (1 - pn);
  VerifyOptions o;
  o.timeoutSec = 60;
  auto r = verifyProperty(*prog, prog->properties[0], o);
  INFO(r.reason << " / " << r.method);
  REQUIRE(r.isInterval);
  CHECK(r.method.find("variable elimination") != std::string::npos);
  CHECK(std::fabs(0.5 * (r.lo + r.hi) - pn) < 1e-9);
  CHECK(r.lo <= pn);
  CHECK(r.hi >= pn);
  CHECK(r.seconds < 30);
  auto e = verifyProperty(*prog, prog->properties[1], o);
  INFO(e.reason << " / " << e.method);
  REQUIRE(e.isInterval);
  CHECK(std::fabs(0.5 * (e.lo + e.hi) - (4 * pn - 1)) < 1e-9);
  CHECK(e.verdict == Verdict::Holds);
}

TEST_CASE("always/asserts range over values of positive mass only", "[properties][exact]") {
  // wet ~ Bernoulli(0.0) when neither cause holds: wet = true there has prior mass zero, so it is
  // no counterexample (it would not replay: outside the support at those parameters).
  auto prog = lowerText(R"(
module WetP(s: bool, r: bool) -> (p: real) {
    p = if s && r then 0.99 else if s || r then 0.9 else 0.0;
}
module Prior() -> (sprinkler: bool, rain: bool, wet: bool, k: int) {
    sprinkler ~ Bernoulli(0.5);
    rain ~ Bernoulli(1.0);
    wet ~ Bernoulli(WetP(sprinkler, rain).p);
    k ~ Categorical([0.5, 0.0, 0.5]);
    assert(k != 1);
}
property no_cause_no_wet: always[Prior](sprinkler || rain || !wet);
property always_rain: always[Prior](rain);
property wet_needs_sprinkler: always[Prior](!wet || sprinkler);
)");
  VerifyOptions o;
  CHECK(verifyProperty(*prog, prog->properties[0], o).verdict == Verdict::Holds);
  CHECK(verifyProperty(*prog, prog->properties[1], o).verdict == Verdict::Holds);
  auto r = verifyProperty(*prog, prog->properties[2], o);
  CHECK(r.verdict == Verdict::Violated); // rain alone wets the grass
  CHECK(r.valueAtCounterexample == "false");
  auto as = verifyAsserts(*prog, o);
  REQUIRE(as.size() == 1);
  CHECK(as[0].verdict == Verdict::Holds); // k = 1 has mass zero
}

TEST_CASE("VE on a model calling a ranged module: ranges proved first", "[properties][exact]") {
  // 2^40 traces (enumeration would stop at 200,000); Score's input range [0, 40] holds on every
  // run (Z3 proves it), so VE applies. P(total <= 40) = P(Binomial(40, 1/2) <= 20).
  auto prog = lowerText(R"(
module Score(n: int in [0, 40]) -> (s: int) {
    s = n * 2;
}
module Many() -> (total: int) {
    var x: bool[40];
    var c: int = 0;
    for i in 0..40 {
        x[i] ~ Bernoulli(0.5);
        c = c + (if x[i] then 1 else 0);
    }
    total = Score(c).s;
}
module Over() -> (total: int) {
    var x: bool[3];
    var c: int = 38;
    for i in 0..3 {
        x[i] ~ Bernoulli(0.5);
        c = c + (if x[i] then 1 else 0);
    }
    total = Score(c).s;
}
property half: P[Many](total <= 40) <= 2.0;
property over: P[Over](total <= 78) <= 2.0;
)");
  double p = 0, term = std::pow(0.5, 40);
  for (int k = 0; k <= 20; ++k) {
    p += term;
    term = term * (40 - k) / (k + 1);
  }
  VerifyOptions o;
  auto r = verifyProperty(*prog, prog->properties[0], o);
  INFO(r.reason << " / " << r.method);
  REQUIRE(r.isInterval);
  CHECK(r.method.find("variable elimination") != std::string::npos);
  CHECK(std::fabs(0.5 * (r.lo + r.hi) - p) < 1e-9);
  // Over's runs reach Score(41) (a range error) with probability 1/8: no exact value, and the
  // enumeration stops at the failing run; never a number that ignores the failures.
  auto ro = verifyProperty(*prog, prog->properties[1], o);
  INFO(ro.reason << " / " << ro.method);
  CHECK(ro.method.find("variable elimination") == std::string::npos);
  CHECK(ro.verdict == Verdict::Unknown);
}
