// Exact inference on .chs models (symbolic/infer_exact.h): the sprinkler example against hand-
// computed posteriors; the BIF networks written as .chs (symbolic/bayesnet.h writeChs) against
// the BIF engine's variable elimination (prior, and cancer under evidence against the reference
// file's figures); 40 random small discrete programs (choices with parameters depending on
// earlier choices, guarded choices under if on random values, loops accumulating, observes with
// discrete and continuous likelihoods, conditions, factors) against brute-force enumeration of
// every trace through the interpreter (RunOptions::replay); refusals with located reasons.
#include "tests/symbolic/compile_chs.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/bif.h"
#include "symbolic/distributions.h"
#include "symbolic/infer_exact.h"
#include "symbolic/interp.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>

using namespace chassis;
using namespace chassis::symbolic;

namespace {

std::unique_ptr<ir::Program> lowerText(const std::string& text) { return testing::lowerChs(text); }

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const QuantitySummary& row(const Posterior& p, const std::string& name) {
  for (auto& s : p.summaries)
    if (s.name == name) return s;
  FAIL("no row " << name);
  return p.summaries[0];
}

double probOf(const QuantitySummary& s, double v) {
  for (auto& [x, pr] : s.distribution)
    if (x == v) return pr;
  return 0;
}

/// Brute force: every complete trace of f by depth-first enumeration of the first fresh choice,
/// with its probability exp(logJoint); per output the distribution of its (scalar) value.
struct Enumerated {
  double z = 0;
  std::vector<std::map<double, double>> outputs;
};

void enumerate(const ir::Function& f, std::unordered_map<std::string, double> replay,
               Enumerated& out) {
  Rng rng(1);
  RunOptions ro;
  ro.replay = &replay;
  auto r = run(f, {}, rng, ro);
  REQUIRE(r);
  for (const Choice& c : r->trace.choices)
    if (!c.replayed) {
      Support sp = support(c.dist, c.params);
      REQUIRE(std::isfinite(sp.hi));
      for (double v = sp.lo; v <= sp.hi; v += 1) {
        auto next = replay;
        next[c.address] = v;
        enumerate(f, std::move(next), out);
      }
      return;
    }
  const double w = std::exp(r->trace.logJoint());
  out.z += w;
  out.outputs.resize(r->outputs.size());
  for (size_t k = 0; k < r->outputs.size(); ++k) out.outputs[k][r->outputs[k].s] += w;
}

} // namespace

TEST_CASE("exact: sprinkler posteriors match the hand computation", "[infer][exact]") {
  auto prog = lowerText(readFile(std::string(CHASSIS_SOURCE_DIR) + "/examples/sprinkler.chs"));
  const ir::Function* f = prog->findFunction("WetGrass");
  REQUIRE(f);
  auto p = inferExact(*f, {}, InferOptions{});
  REQUIRE(p);
  // By hand: P(c, s, r, W) = P(c) P(s|c) P(r|c) P(W|s,r), summed.
  double pw = 0, pr = 0, ps = 0, pc = 0;
  for (int c = 0; c < 2; ++c)
    for (int s = 0; s < 2; ++s)
      for (int r = 0; r < 2; ++r) {
        double ps_ = c ? 0.1 : 0.5, pr_ = c ? 0.8 : 0.2;
        double w = s && r ? 0.99 : (s || r ? 0.9 : 0.0);
        double j = 0.5 * (s ? ps_ : 1 - ps_) * (r ? pr_ : 1 - pr_) * w;
        pw += j;
        pr += r ? j : 0;
        ps += s ? j : 0;
        pc += c ? j : 0;
      }
  CHECK(p->logEvidence == Approx(std::log(pw)).epsilon(1e-12));
  CHECK(std::abs(probOf(row(*p, "rain"), 1) - pr / pw) < 1e-12);
  CHECK(std::abs(probOf(row(*p, "sprinkler"), 1) - ps / pw) < 1e-12);
  CHECK(std::abs(probOf(row(*p, "cloudy"), 1) - pc / pw) < 1e-12);
  CHECK(std::abs(row(*p, "rain").mean - pr / pw) < 1e-12);
  CHECK(std::abs(probOf(row(*p, "rain"), 1) - 0.7079) < 1e-4); // the example's header
  // A choice by address, and the prior module: P(wet) = 0.6471.
  InferOptions q;
  q.query = {"wet"};
  const ir::Function* prior = prog->findFunction("Prior");
  auto pp = inferExact(*prior, {}, q);
  REQUIRE(pp);
  CHECK(std::abs(probOf(pp->summaries[0], 1) - pw) < 1e-12);
  CHECK(std::abs(pp->logEvidence) < 1e-12);
}

TEST_CASE("exact: BIF networks as .chs agree with the BIF engine", "[infer][exact][bif]") {
  for (std::string name : {"cancer", "survey"}) {
    auto net = readBifFile(std::string(CHASSIS_SOURCE_DIR) + "/tests/data/bif/" + name + ".bif");
    REQUIRE(net);
    auto text = writeChs(*net, "Net", name + ".bif");
    REQUIRE(text);
    auto prog = lowerText(*text);
    const ir::Function* f = prog->findFunction("Net");
    REQUIRE(f);
    auto p = inferExact(*f, {}, InferOptions{});
    REQUIRE(p);
    std::vector<VarId> all;
    for (size_t v = 0; v < net->vars.size(); ++v) all.push_back(VarId(v));
    auto ve = variableElimination(net->toFactorModel(), all, {});
    REQUIRE(ve);
    REQUIRE(p->summaries.size() == net->vars.size());
    for (size_t v = 0; v < net->vars.size(); ++v)
      for (size_t s = 0; s < net->vars[v].states.size(); ++s) {
        INFO(name << " " << net->vars[v].name << " state " << s);
        CHECK(std::abs(probOf(p->summaries[v], double(s)) - ve->marginals[v][s]) < 1e-9);
      }
  }
  // cancer given Xray = positive, Dyspnoea = True: conditions appended to the generated module.
  auto net = readBifFile(std::string(CHASSIS_SOURCE_DIR) + "/tests/data/bif/cancer.bif");
  REQUIRE(net);
  auto text = writeChs(*net, "Net", "cancer.bif");
  REQUIRE(text);
  size_t close = text->rfind('}');
  text->insert(close, "    condition(Xray_i == 0);\n    condition(Dyspnoea_i == 0);\n");
  auto prog = lowerText(*text);
  auto p = inferExact(*prog->findFunction("Net"), {}, InferOptions{});
  REQUIRE(p);
  CHECK(std::abs(std::exp(p->logEvidence) - 0.06610575) < 1e-9);
  CHECK(std::abs(probOf(row(*p, "Cancer"), 0) - 0.10291918630376327) < 1e-9);
  CHECK(std::abs(probOf(row(*p, "Smoker"), 0) - 0.3485324650276262) < 1e-9);
  CHECK(std::abs(probOf(row(*p, "Pollution"), 2) - 0.11379494219489225) < 1e-9);
}

namespace {

/// A random small discrete program (see the file header). Every choice value is a small
/// non-negative int held in vK.
std::string randomProgram(uint64_t seed) {
  Rng rng(seed, 7);
  auto pick = [&](int n) { return int(rng.nextU64() % uint64_t(n)); };
  auto prob = [&]() {
    char b[16];
    std::snprintf(b, sizeof b, "%.2f", 0.05 + 0.9 * rng.uniform());
    return std::string(b);
  };
  std::ostringstream os;
  os << "module R() -> (o1: int, o2: bool) {\n    var acc: int = 0;\n";
  int nv = 0;
  auto anyVar = [&]() { return "v" + std::to_string(pick(nv)); };
  auto newChoice = [&]() {
    std::string v = "v" + std::to_string(nv);
    int kind = nv == 0 ? pick(2) : pick(4);
    switch (kind) {
    case 0:
      if (nv == 0)
        os << "    b" << nv << " ~ Bernoulli(" << prob() << ");\n";
      else
        os << "    b" << nv << " ~ Bernoulli(if " << anyVar() << " == " << pick(2) << " then "
           << prob() << " else " << prob() << ");\n";
      os << "    let " << v << " = if b" << nv << " then 1 else 0;\n";
      break;
    case 1:
      if (nv == 0)
        os << "    " << v << " ~ Categorical([" << prob() << ", " << prob() << ", " << prob() << "]);\n";
      else
        os << "    " << v << " ~ Categorical([" << prob() << ", if " << anyVar() << " > 0 then "
           << prob() << " else " << prob() << ", " << prob() << "]);\n";
      break;
    case 2: os << "    " << v << " ~ DiscreteUniform(0, " << anyVar() << " % 3);\n"; break;
    default:
      os << "    " << v << " ~ Binomial(" << anyVar() << " % 3 + 1, " << prob() << ");\n";
      break;
    }
    ++nv;
  };
  newChoice();
  bool loopDone = false;
  int guarded = 0;
  const int steps = 3 + pick(5);
  for (int s = 0; s < steps; ++s) {
    switch (pick(8)) {
    case 0:
    case 1: newChoice(); break;
    case 2: os << "    acc = acc + " << anyVar() << " * " << (1 + pick(2)) << ";\n"; break;
    case 3: {
      std::string g = "g" + std::to_string(guarded++);
      os << "    if " << anyVar() << " > " << pick(2) << " {\n        " << g << " ~ Bernoulli("
         << prob() << ");\n        acc = acc + (if " << g << " then 2 else 0);\n    } else {\n"
         << "        acc = acc - 1;\n    }\n";
      break;
    }
    case 4:
      os << "    observe(Bernoulli(if " << anyVar() << " + acc > " << pick(3) << " then " << prob()
         << " else " << prob() << "), " << (pick(2) ? "true" : "false") << ");\n";
      break;
    case 5: os << "    observe(Normal(" << anyVar() << " + 0.5, 1.5), 0.7);\n"; break;
    case 6:
      if (pick(2))
        os << "    condition(" << anyVar() << " != " << pick(3) << " || " << anyVar() << " != "
           << pick(3) << ");\n";
      else
        os << "    factor(if " << anyVar() << " > 0 then " << prob() << " else -" << prob()
           << ");\n";
      break;
    default:
      if (loopDone) {
        newChoice();
        break;
      }
      loopDone = true;
      os << "    var arr: bool[3];\n    for i in 0..3 {\n        arr[i] ~ Bernoulli(if acc > " << pick(2)
         << " then " << prob() << " else " << prob() << ");\n        if arr[i] {\n"
         << "            acc = acc + 1;\n        }\n    }\n";
      break;
    }
  }
  os << "    o1 = acc + " << anyVar() << ";\n    o2 = " << anyVar() << " > " << pick(2) << ";\n}\n";
  return os.str();
}

} // namespace

TEST_CASE("exact: random discrete programs agree with brute-force enumeration",
          "[infer][exact][random]") {
  int compared = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const std::string text = randomProgram(seed);
    INFO(text);
    auto prog = lowerText(text);
    const ir::Function* f = prog->findFunction("R");
    REQUIRE(f);
    Enumerated brute;
    enumerate(*f, {}, brute);
    auto p = inferExact(*f, {}, InferOptions{});
    if (brute.z == 0) {
      CHECK_FALSE(p); // impossible evidence is an error, never a number
      continue;
    }
    INFO((p ? "" : p.error().str()));
    REQUIRE(p);
    ++compared;
    CHECK(std::abs(p->logEvidence - std::log(brute.z)) < 1e-12 * std::max(1.0, std::abs(std::log(brute.z))) + 1e-12);
    for (size_t k = 0; k < 2; ++k) {
      const auto& s = p->summaries[k];
      double total = 0;
      for (auto& [v, w] : brute.outputs[k]) {
        INFO("output " << k << " value " << v);
        CHECK(std::abs(probOf(s, v) - w / brute.z) < 1e-12);
        total += probOf(s, v);
      }
      CHECK(std::abs(total - 1) < 1e-12); // no mass on values brute force never sees
    }
  }
  CHECK(compared >= 20);
}

TEST_CASE("exact: refusals are located errors with a reason", "[infer][exact]") {
  auto prog = lowerText("module C() -> (x: real) {\n    x ~ Normal(0.0, 1.0);\n}\n"
                        "module P() -> (n: int) {\n    n ~ Poisson(2.0);\n}\n");
  auto c = inferExact(*prog->findFunction("C"), {}, InferOptions{});
  REQUIRE_FALSE(c);
  CHECK(c.error().loc.line == 2);
  CHECK(c.error().message.find("continuous") != std::string::npos);
  auto p = inferExact(*prog->findFunction("P"), {}, InferOptions{});
  REQUIRE_FALSE(p);
  CHECK(p.error().message.find("infinitely many") != std::string::npos);
  auto imp = lowerText("module I() -> (b: bool) {\n    b ~ Bernoulli(0.5);\n    condition(b && !b);\n}\n");
  CHECK_FALSE(inferExact(*imp->findFunction("I"), {}, InferOptions{}));
}

TEST_CASE("exact: a long chain stays a chain of small factors", "[infer][exact]") {
  // count = sum of 60 coin flips: the joint has 2^60 assignments; the factors stay small.
  auto prog = lowerText("module S() -> (count: int) {\n    var c: int = 0;\n    var x: bool[60];\n"
                        "    for i in 0..60 {\n        x[i] ~ Bernoulli(0.5);\n"
                        "        c = c + (if x[i] then 1 else 0);\n    }\n"
                        "    observe(Bernoulli(if c > 30 then 0.9 else 0.1), true);\n    count = c;\n}\n");
  auto p = inferExact(*prog->findFunction("S"), {}, InferOptions{});
  REQUIRE(p);
  // By hand: Binomial(60, 1/2) reweighted by 0.9 / 0.1.
  double z = 0, m = 0;
  for (int k = 0; k <= 60; ++k) {
    double pk = std::exp(std::lgamma(61) - std::lgamma(k + 1) - std::lgamma(61 - k) - 60 * std::log(2.0));
    double w = pk * (k > 30 ? 0.9 : 0.1);
    z += w;
    m += w * k;
  }
  CHECK(std::abs(p->logEvidence - std::log(z)) < 1e-10);
  CHECK(std::abs(p->summaries[0].mean - m / z) < 1e-9);
}
