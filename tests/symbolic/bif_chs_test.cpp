// `import-bif` end to end: the .chs text written for cancer, survey and a network with awkward
// names passes the language's checker, lowers, and — run through the interpreter 20,000 times —
// draws every variable with the frequencies that exact inference (VE) gives for the BIF network,
// within 5 binomial standard errors. This ties the writer's CPT indexing to the reader's.
#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/bif.h"
#include "symbolic/interp.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace chassis;
using namespace chassis::symbolic;

namespace {

void roundTrip(const BayesNet& net, const std::string& module, const std::string& expectModule) {
  auto text = writeChs(net, module, "test");
  REQUIRE(text);
  spec::DiagnosticEngine diags;
  auto ast = spec::fromString(*text, "generated.chs", diags);
  INFO(*text);
  INFO(diags.str());
  REQUIRE(ast);
  auto prog = ir::lower(*ast);
  INFO((prog ? "" : prog.error().str()));
  REQUIRE(prog);
  const ir::Function* f = prog->findFunction(expectModule);
  REQUIRE(f);
  REQUIRE(f->outputs().size() == net.vars.size());

  std::vector<VarId> all;
  for (size_t v = 0; v < net.vars.size(); ++v)
    all.push_back(static_cast<VarId>(v));
  auto exact = variableElimination(net.toFactorModel(), all, {});
  REQUIRE(exact);

  const int n = 20000;
  std::vector<std::vector<int>> counts(net.vars.size());
  for (size_t v = 0; v < net.vars.size(); ++v)
    counts[v].assign(net.vars[v].states.size(), 0);
  Rng base(99);
  RunOptions opts;
  opts.recordChoices = false;
  for (int i = 0; i < n; ++i) {
    Rng rng = base.split(i);
    auto r = run(*f, {}, rng, opts);
    REQUIRE(r);
    for (size_t v = 0; v < net.vars.size(); ++v)
      counts[v][static_cast<size_t>(r->outputs[v].s)]++; // an enum output is its state index
  }
  for (size_t v = 0; v < net.vars.size(); ++v)
    for (size_t s = 0; s < counts[v].size(); ++s) {
      const double p = exact->marginals[v][s];
      INFO(net.vars[v].name << " = " << net.vars[v].states[s] << ": exact " << p);
      CHECK(std::abs(double(counts[v][s]) / n - p) <= 5 * std::sqrt(p * (1 - p) / n) + 1e-12);
    }
}

} // namespace

TEST_CASE("bif: import-bif output checks, lowers and samples the network", "[bif][chs]") {
  for (const char* name : {"cancer", "survey"}) {
    auto net = readBifFile(std::string(CHASSIS_SOURCE_DIR) + "/tests/data/bif/" + name + ".bif");
    REQUIRE(net);
    std::string module = name;
    module[0] = char(std::toupper(module[0]));
    roundTrip(*net, module, module == "Cancer" ? "CancerNet" : module);
  }
  // Keywords, punctuation and digits in names; three parents; a one-state variable.
  const std::string odd = R"(
variable in { type discrete [ 2 ] { 0-4, "a b" }; }
variable x.y { type discrete [ 1 ] { only }; }
variable real { type discrete [ 3 ] { true, false, Normal }; }
variable z { type discrete [ 2 ] { lo, hi }; }
probability ( in ) { table 0.3, 0.7; }
probability ( x.y | in ) { default 1; }
probability ( real ) { table 0.2, 0.5, 0.3; }
probability ( z | real, in, x.y ) {
  (true, 0-4, only) 0.9, 0.1;
  (true, "a b", only) 0.6, 0.4;
  (false, 0-4, only) 0.3, 0.7;
  (false, "a b", only) 0.5, 0.5;
  (Normal, 0-4, only) 0.05, 0.95;
  (Normal, "a b", only) 0.75, 0.25;
}
)";
  auto net = parseBif(odd, "odd.bif");
  REQUIRE(net);
  roundTrip(*net, "odd", "odd");
}
