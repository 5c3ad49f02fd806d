// A Stan model translated line for line with the language's Stan-facing forms, against
// posteriordb's reference posterior: kidiq-kidscore_momiq with its sizes from the data file
// (`N`), Stan's flat prior on `vector[2] beta` (`beta ~ Flat();`, vectorised), `real<lower=0>
// sigma` with `sigma ~ cauchy(0, 2.5)` (HalfCauchy: the same density on sigma > 0 up to a
// constant), and the vectorised likelihood `kid_score ~ normal(mu, sigma)`. The data file is
// posteriordb's, read unchanged (tests/data/posteriordb). Every mean within
// 3 sqrt(MCSE_ours^2 + MCSE_ref^2), every sd within 10%, R-hat < 1.01.
#include "spec/data_sizes.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/diagnostics.h"
#include "symbolic/infer_nuts.h"
#include "symbolic/interp.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace chassis;
using namespace chassis::symbolic;

namespace {

std::string readText(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char* kKidIQ = R"(
// data { int<lower=0> N; vector[N] kid_score; vector[N] mom_iq; }
// parameters { vector[2] beta; real<lower=0> sigma; }
module KidIQ(N: int, kid_score: real[N], mom_iq: real[N]) -> (beta: real[2], sigma: real) {
    beta ~ Flat();
    sigma ~ Flat(lower = 0.0);
    factor(lpdf(HalfCauchy(2.5), sigma));            // sigma ~ cauchy(0, 2.5);
    var mu: real[N];
    for i in 0..N {
        mu[i] = beta[0] + beta[1] * mom_iq[i];
    }
    observe(Normal(mu, sigma), kid_score);           // kid_score ~ normal(mu, sigma);
}
)";

} // namespace

TEST_CASE("Stan translation: kidiq with data sizes, flat priors and a vectorised likelihood",
          "[nuts][posteriordb][stan]") {
  const std::string dir =
      std::string(CHASSIS_SOURCE_DIR) + "/tests/data/posteriordb/kidiq-kidscore_momiq/";
  const std::string dataText = readText(dir + "data.json");
  auto sizes = spec::readDataSizes(dataText, "data.json");
  REQUIRE(sizes);
  spec::DiagnosticEngine diags;
  auto ast = spec::fromString(kKidIQ, "kidiq.chs", diags, &*sizes);
  INFO(diags.str());
  REQUIRE(ast);
  auto prog = ir::lower(*ast);
  REQUIRE(prog);
  const ir::Function* f = prog->findFunction("KidIQ");
  REQUIRE(f);
  CHECK(f->inputs()[1].var->type().length() == 434);
  auto bound = bindJsonInputs(*f, prog->ctx(), dataText, "data.json");
  REQUIRE(bound);
  std::vector<Value> inputs;
  for (auto& v : *bound) {
    REQUIRE(v);
    inputs.push_back(*v);
  }
  NutsOptions opt;
  opt.seed = 78;
  auto r = runNuts(*f, inputs, opt);
  INFO((r ? "" : r.error().str()));
  REQUIRE(r);

  nlohmann::json means = nlohmann::json::parse(readText(dir + "ref_mean_value.json"));
  nlohmann::json summary = nlohmann::json::parse(readText(dir + "reference_summary.json"));
  const std::vector<std::pair<std::string, std::string>> names = {
      {"beta[1]", "beta[0]"}, {"beta[2]", "beta[1]"}, {"sigma", "sigma"}};
  for (size_t k = 0; k < names.size(); ++k) {
    const auto& [ref, ours] = names[k];
    double refMean = means["mean_value"][k].get<double>();
    double refMcse = means["mcse_mean"][k].get<double>();
    double refSd = summary["summary"][ref]["sd"].get<double>();
    int q = r->find(ours);
    REQUIRE(q >= 0);
    auto s = summarizeDraws(r->chainsOf(size_t(q)));
    REQUIRE(s);
    INFO(ref << ": mean " << s->mean << " (mcse " << s->mcseMean << ") vs " << refMean
             << " (mcse " << refMcse << "); sd " << s->sd << " vs " << refSd << "; R-hat "
             << s->rhat);
    CHECK(std::fabs(s->mean - refMean) <=
          3 * std::sqrt(s->mcseMean * s->mcseMean + refMcse * refMcse));
    CHECK(std::fabs(s->sd - refSd) <= 0.1 * refSd);
    CHECK(s->rhat < 1.01);
  }
  CHECK(r->divergences == 0);
}
