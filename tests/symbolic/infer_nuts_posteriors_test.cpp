// NUTS (symbolic/infer_nuts.h) on posteriors with known answers: a 10-D standard normal and a
// correlated 2-D Gaussian (means within 4 MCSE, sds within 10%), eight schools (non-centred) and
// kidiq against posteriordb's reference posteriors (tests/data/posteriordb: every mean within
// 3 sqrt(MCSE_ours^2 + MCSE_ref^2), every sd within 10%, R-hat < 1.01, 4 chains), divergences
// counted on Neal's funnel, identical draws for the same seed whatever the number of threads,
// discrete models refused, and the Posterior returned by inferNuts.
#include "tests/symbolic/compile_chs.h"
#include "tests/symbolic/nuts_draws.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/diagnostics.h"
#include "symbolic/infer_nuts.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace chassis;
using namespace chassis::symbolic;
using chassis::testing::summaryOf;

namespace {

using NutsCompiled = testing::CompiledChs;
NutsCompiled nutsCompile(const std::string& src) { return testing::compileChs(src); }

std::string readText(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json readJson(const std::string& rel) {
  return nlohmann::json::parse(readText(std::string(CHASSIS_SOURCE_DIR) + "/" + rel));
}

Value arrayOf(const nlohmann::json& j) {
  std::vector<double> v;
  for (const auto& x : j)
    v.push_back(x.get<double>());
  return Value::array(std::move(v));
}

NutsResult runOk(const ir::Function& f, std::vector<Value> inputs, NutsOptions opt) {
  auto r = runNuts(f, inputs, opt);
  INFO((r ? "" : r.error().str()));
  REQUIRE(r);
  return std::move(*r);
}

/// Compares our posterior with a posteriordb reference. `ourName(refName)` maps its names.
void checkAgainstReference(const NutsResult& r, const std::string& dir,
                           const std::function<std::string(const std::string&)>& ourName) {
  nlohmann::json means = readJson("tests/data/posteriordb/" + dir + "/ref_mean_value.json");
  nlohmann::json summary = readJson("tests/data/posteriordb/" + dir + "/reference_summary.json");
  size_t n = means["names"].size();
  REQUIRE(n > 0);
  for (size_t k = 0; k < n; ++k) {
    std::string ref = means["names"][k].get<std::string>();
    double refMean = means["mean_value"][k].get<double>();
    double refMcse = means["mcse_mean"][k].get<double>();
    double refSd = summary["summary"][ref]["sd"].get<double>();
    DrawSummary s = summaryOf(r, ourName(ref));
    INFO(ref << ": mean " << s.mean << " (mcse " << s.mcseMean << ") vs " << refMean << " (mcse "
             << refMcse << "); sd " << s.sd << " vs " << refSd << "; R-hat " << s.rhat
             << "; ESS bulk " << s.essBulk);
    CHECK(std::fabs(s.mean - refMean) <=
          3 * std::sqrt(s.mcseMean * s.mcseMean + refMcse * refMcse));
    CHECK(std::fabs(s.sd - refSd) <= 0.1 * refSd);
    CHECK(s.rhat < 1.01);
  }
}

/// "theta[3]" (1-based, posteriordb) -> "theta[2]" (0-based, ours).
std::string zeroBased(const std::string& ref) {
  size_t b = ref.find('[');
  if (b == std::string::npos) return ref;
  int i = std::stoi(ref.substr(b + 1));
  return ref.substr(0, b) + "[" + std::to_string(i - 1) + "]";
}

} // namespace

TEST_CASE("NUTS: 10-D standard normal", "[nuts]") {
  NutsCompiled c = nutsCompile(R"(
module Std() -> (x: real[10]) {
    for i in 0..10 {
        x[i] ~ Normal(0.0, 1.0);
    }
}
)");
  NutsOptions opt;
  opt.seed = 11;
  opt.warmup = 500;
  opt.samples = 1000;
  NutsResult r = runOk(*c.ir.findFunction("Std"), {}, opt);
  REQUIRE(r.numChoices == 10);
  REQUIRE(r.names.size() == 20); // the choices x[0..9], then the output x[0..9]
  CHECK(r.divergences == 0);
  for (int i = 0; i < 10; ++i) {
    DrawSummary s = summaryOf(r, "x[" + std::to_string(i) + "]");
    INFO("x[" << i << "]: mean " << s.mean << " mcse " << s.mcseMean << " sd " << s.sd);
    CHECK(std::fabs(s.mean) <= 4 * s.mcseMean);
    CHECK(std::fabs(s.sd - 1) <= 0.1);
    CHECK(s.rhat < 1.01);
  }
  // The step size adapted to something sensible for a unit-scale target.
  for (const NutsChainResult& ch : r.chains) {
    CHECK(ch.stepSize > 0.3);
    CHECK(ch.stepSize < 1.5);
    CHECK(ch.meanAcceptStat > 0.6);
    for (double m : ch.invMetric)
      CHECK(std::fabs(m - 1) < 0.35);
  }
}

TEST_CASE("NUTS: correlated 2-D Gaussian", "[nuts]") {
  // x ~ N(0, 1), y | x ~ N(0.8 x, 0.6): y ~ N(0, 1), corr(x, y) = 0.8.
  NutsCompiled c = nutsCompile(R"(
module Corr() -> (x: real, y: real) {
    x ~ Normal(0.0, 1.0);
    y ~ Normal(0.8 * x, 0.6);
}
)");
  NutsOptions opt;
  opt.seed = 5;
  opt.warmup = 500;
  opt.samples = 1000;
  NutsResult r = runOk(*c.ir.findFunction("Corr"), {}, opt);
  for (const char* name : {"x", "y"}) {
    DrawSummary s = summaryOf(r, name);
    INFO(name << ": mean " << s.mean << " mcse " << s.mcseMean << " sd " << s.sd);
    CHECK(std::fabs(s.mean) <= 4 * s.mcseMean);
    CHECK(std::fabs(s.sd - 1) <= 0.1);
  }
  // The sample correlation over all draws.
  auto xs = r.chainsOf(size_t(r.find("x"))), ys = r.chainsOf(size_t(r.find("y")));
  double sx = 0, sy = 0, sxy = 0, sxx = 0, syy = 0, n = 0;
  for (size_t ch = 0; ch < xs.size(); ++ch)
    for (size_t i = 0; i < xs[ch].size(); ++i) {
      double a = xs[ch][i], b = ys[ch][i];
      sx += a, sy += b, sxy += a * b, sxx += a * a, syy += b * b, n += 1;
    }
  double cov = sxy / n - sx / n * sy / n;
  double corr = cov / std::sqrt((sxx / n - sx * sx / n / n) * (syy / n - sy * sy / n / n));
  CHECK(std::fabs(corr - 0.8) < 0.05);
}

TEST_CASE("NUTS: eight schools (non-centred) against posteriordb", "[nuts][posteriordb]") {
  std::string src = readText(std::string(CHASSIS_SOURCE_DIR) + "/examples/eight_schools.chs");
  NutsCompiled c = nutsCompile(src);
  nlohmann::json data =
      readJson("tests/data/posteriordb/eight_schools-eight_schools_noncentered/data.json");
  NutsOptions opt;
  opt.seed = 2024;
  NutsResult r =
      runOk(*c.ir.findFunction("EightSchools"), {arrayOf(data["y"]), arrayOf(data["sigma"])}, opt);
  // theta is an output; mu and tau are both choices and outputs (the choice comes first).
  checkAgainstReference(r, "eight_schools-eight_schools_noncentered", zeroBased);
  CHECK(r.divergences <= 4 * 1000 / 100); // the non-centred form has (almost) none
}

TEST_CASE("NUTS: kidiq against posteriordb", "[nuts][posteriordb]") {
  std::string src = readText(std::string(CHASSIS_SOURCE_DIR) + "/examples/kidiq.chs");
  NutsCompiled c = nutsCompile(src);
  nlohmann::json data = readJson("tests/data/posteriordb/kidiq-kidscore_momiq/data.json");
  NutsOptions opt;
  opt.seed = 77;
  NutsResult r = runOk(*c.ir.findFunction("KidIQ"),
                       {arrayOf(data["kid_score"]), arrayOf(data["mom_iq"])}, opt);
  checkAgainstReference(r, "kidiq-kidscore_momiq", zeroBased);
  CHECK(r.divergences == 0);
}

TEST_CASE("NUTS: divergences are detected and counted on Neal's funnel", "[nuts]") {
  NutsCompiled c = nutsCompile(R"(
module Funnel() -> () {
    v ~ Normal(0.0, 3.0);
    var x: real[5];
    for i in 0..5 {
        x[i] ~ Normal(0.0, exp(0.5 * v));
    }
}
)");
  NutsOptions opt;
  opt.seed = 3;
  opt.chains = 4; // the count per chain varies widely with the rounding of the trajectory
  opt.warmup = 300;
  opt.samples = 300;
  NutsResult r = runOk(*c.ir.findFunction("Funnel"), {}, opt);
  CHECK(r.divergences > 0);
  size_t sum = 0;
  for (const auto& ch : r.chains)
    sum += ch.divergences;
  CHECK(sum == r.divergences);
}

TEST_CASE("NUTS: the same seed gives the same draws, whatever the number of threads", "[nuts]") {
  std::string src = readText(std::string(CHASSIS_SOURCE_DIR) + "/examples/eight_schools.chs");
  NutsCompiled c = nutsCompile(src);
  std::vector<Value> in = {Value::array({28, 8, -3, 7, -1, 1, 18, 12}),
                           Value::array({15, 10, 16, 11, 9, 11, 10, 18})};
  NutsOptions opt;
  opt.seed = 9;
  opt.chains = 3;
  opt.warmup = 150;
  opt.samples = 100;
  opt.threads = 2;
  NutsResult a = runOk(*c.ir.findFunction("EightSchools"), in, opt);
  NutsResult b = runOk(*c.ir.findFunction("EightSchools"), in, opt);
  opt.threads = 1;
  NutsResult one = runOk(*c.ir.findFunction("EightSchools"), in, opt);
  REQUIRE(a.chains.size() == 3);
  for (size_t ch = 0; ch < 3; ++ch) {
    CHECK(a.chains[ch].draws == b.chains[ch].draws); // bit for bit
    CHECK(a.chains[ch].draws == one.chains[ch].draws);
  }
  // Chains are different streams.
  CHECK(a.chains[0].draws != a.chains[1].draws);
  opt.seed = 10;
  NutsResult other = runOk(*c.ir.findFunction("EightSchools"), in, opt);
  CHECK(other.chains[0].draws != a.chains[0].draws);
}

TEST_CASE("NUTS: discrete models are refused; inferNuts fills a Posterior", "[nuts]") {
  NutsCompiled c = nutsCompile(R"(
module Mixed() -> (x: real) {
    x ~ Normal(0.0, 1.0);
    z ~ Bernoulli(0.5);
}
module Lin(y: real[3]) -> (m: real) {
    m ~ Normal(0.0, 10.0);
    s ~ Exponential(1.0);
    for i in 0..3 {
        observe(Normal(m, s), y[i]);
    }
}
)");
  NutsOptions opt;
  opt.warmup = 10;
  opt.samples = 10;
  auto r = runNuts(*c.ir.findFunction("Mixed"), {}, opt);
  REQUIRE(!r);
  CHECK(r.error().str() ==
        "t.chs:4:5: error: NUTS needs every random choice continuous; 'z' is Bernoulli: use "
        "--method mh");

  InferOptions io;
  io.method = InferMethod::NUTS;
  io.warmup = 200;
  io.samples = 200;
  io.chains = 2;
  io.seed = 4;
  io.query = {"m", "s"};
  std::vector<Value> in = {Value::array({1.0, 2.0, 3.0})};
  auto p = inferNuts(*c.ir.findFunction("Lin"), in, io);
  INFO((p ? "" : p.error().str()));
  REQUIRE(p);
  CHECK(p->method == InferMethod::NUTS);
  REQUIRE(p->quantities.size() == 2);
  REQUIRE(p->draws.size() == 2);
  REQUIRE(p->draws[0].size() == 2);
  CHECK(p->draws[0][0].size() == 200);
  REQUIRE(p->summaries.size() == 2);
  // The posterior mean of m is near the data mean 2 (a weak prior); s > 0 in every draw.
  CHECK(std::fabs(p->summaries[0].mean - 2.0) < 0.5);
  for (const auto& chain : p->draws[1])
    for (double s : chain)
      CHECK(s > 0);
  CHECK(p->acceptRate > 0.5);
}

// The figure of bench/nuts/run when no `chassis` binary is at hand (hidden: run it with
// `test_symbolic "[nutsbench]"`): effective samples per second on eight schools.
TEST_CASE("NUTS benchmark: eight schools min bulk ESS per second", "[.][nutsbench]") {
  std::string src = readText(std::string(CHASSIS_SOURCE_DIR) + "/examples/eight_schools.chs");
  NutsCompiled c = nutsCompile(src);
  std::vector<Value> in = {Value::array({28, 8, -3, 7, -1, 1, 18, 12}),
                           Value::array({15, 10, 16, 11, 9, 11, 10, 18})};
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    NutsOptions opt;
    opt.seed = seed;
    auto t0 = std::chrono::steady_clock::now();
    NutsResult r = runOk(*c.ir.findFunction("EightSchools"), in, opt);
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double minEss = INFINITY, maxRhat = 0;
    for (size_t q = 0; q < r.names.size(); ++q) {
      auto s = summarizeDraws(r.chainsOf(q));
      REQUIRE(s);
      minEss = std::min(minEss, s->essBulk);
      maxRhat = std::max(maxRhat, s->rhat);
    }
    std::cout << "seed " << seed << " seconds " << dt << " min_ess_bulk " << minEss
              << " ess_per_second " << minEss / dt << " divergences " << r.divergences
              << " max_rhat " << maxRhat << "\n";
    CHECK(minEss > 400);
    CHECK(maxRhat < 1.02);
  }
}

TEST_CASE("NUTS: constrained choices through their transforms have the right posteriors",
          "[nuts]") {
  // p ~ Beta(2, 3) with 7 successes in 10: p | data ~ Beta(9, 6). The others are their priors:
  // a wrong log-Jacobian shows up as a wrong mean or sd.
  NutsCompiled c = nutsCompile(R"(
module Constrained() -> (p: real) {
    p ~ Beta(2.0, 3.0);
    observe(Binomial(10, p), 7);
    g ~ Gamma(3.0, 2.0);
    u ~ Uniform(0.0, 2.0);
    h ~ HalfNormal(1.0);
    w ~ Uniform(-1.0, g);
}
)");
  NutsOptions opt;
  opt.seed = 21;
  opt.warmup = 500;
  opt.samples = 1000;
  NutsResult r = runOk(*c.ir.findFunction("Constrained"), {}, opt);
  struct Expect {
    const char* name;
    double mean, sd;
  };
  for (Expect e : {Expect{"p", 0.6, std::sqrt(9.0 * 6.0 / (15.0 * 15.0 * 16.0))},
                   Expect{"g", 1.5, std::sqrt(3.0) / 2}, Expect{"u", 1.0, 2 / std::sqrt(12.0)},
                   Expect{"h", std::sqrt(2 / M_PI), std::sqrt(1 - 2 / M_PI)}}) {
    DrawSummary s = summaryOf(r, e.name);
    INFO(e.name << ": mean " << s.mean << " (mcse " << s.mcseMean << ") vs " << e.mean << "; sd "
                << s.sd << " vs " << e.sd);
    CHECK(std::fabs(s.mean - e.mean) <= 4 * s.mcseMean);
    CHECK(std::fabs(s.sd - e.sd) <= 0.1 * e.sd);
  }
  // w | g ~ Uniform(-1, g): E[w] = (E[g] - 1) / 2 = 0.25, and every draw inside (-1, g).
  DrawSummary w = summaryOf(r, "w");
  CHECK(std::fabs(w.mean - 0.25) <= 4 * w.mcseMean);
  auto ws = r.chainsOf(size_t(r.find("w"))), gs = r.chainsOf(size_t(r.find("g")));
  for (size_t ch = 0; ch < ws.size(); ++ch)
    for (size_t i = 0; i < ws[ch].size(); ++i) {
      CHECK(ws[ch][i] > -1);
      CHECK(ws[ch][i] < gs[ch][i]);
    }
}
