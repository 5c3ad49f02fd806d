// Sampling inference on .chs models against closed-form posteriors: likelihood weighting
// (symbolic/infer_lw.h), single-site MH (symbolic/infer_mh.h) and SMC (symbolic/infer_smc.h) on
// conjugate models written in .chs — beta-Bernoulli, normal-normal with known sigma,
// gamma-Poisson — each posterior mean within 4 Monte Carlo standard errors (MCSE from the ESS)
// of the exact value; LW and SMC log-evidence against the exact log marginal likelihood; MH on a
// trans-dimensional model (choices appear and disappear with n) against exact inference, which
// checks the fresh/stale correction; the same seed gives byte-identical output whatever the
// number of threads.
#include "tests/symbolic/compile_chs.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/infer_exact.h"
#include "symbolic/infer_lw.h"
#include "symbolic/infer_mh.h"
#include "symbolic/infer_smc.h"
#include "symbolic/summary.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <sstream>

using namespace chassis;
using namespace chassis::symbolic;

namespace {

std::unique_ptr<ir::Program> lowerText(const std::string& text) { return testing::lowerChs(text); }

const char* kModels = R"(
module BetaBern() -> (p: real) {
    p ~ Beta(2.0, 3.0);
    let ys = [true, false, true, true, false, true, true];
    for i in 0..7 {
        observe(Bernoulli(p), ys[i]);
    }
}
module NormNorm() -> (mu: real) {
    mu ~ Normal(0.0, 5.0);
    let ys = [1.2, 0.8, 1.5];
    for i in 0..3 {
        observe(Normal(mu, 1.0), ys[i]);
    }
}
module GammaPois() -> (lam: real) {
    lam ~ Gamma(2.0, 1.0);
    let ys = [3, 1, 4, 2];
    for i in 0..4 {
        observe(Poisson(lam), ys[i]);
    }
}
module Seq() -> (mu: real) {
    mu ~ Normal(0.0, 2.0);
    let ys = [0.9, 1.7, 1.1, 0.4, 1.3, 2.0, 0.8, 1.6, 1.2, 0.7];
    for i in 0..10 {
        observe(Normal(mu, 1.0), ys[i]);
    }
}
module TD() -> (n: int, s: int) {
    n ~ DiscreteUniform(1, 3);
    var x: bool[3];
    var c: int = 0;
    for i in 0..3 {
        if i < n {
            x[i] ~ Bernoulli(0.3);
            c = c + (if x[i] then 1 else 0);
        }
    }
    observe(Poisson(0.5 + c), 2);
    s = c;
}
)";

/// log N(y; 0, s0^2 11^T + s^2 I) for the normal-normal model, and the posterior mean/sd.
struct NormalExact {
  double mean, sd, logZ;
};
NormalExact normalExact(double s0, double s, const std::vector<double>& ys) {
  const double n = double(ys.size());
  double sum = 0, sq = 0;
  for (double y : ys) {
    sum += y;
    sq += y * y;
  }
  const double prec = 1 / (s0 * s0) + n / (s * s);
  NormalExact e;
  e.mean = (sum / (s * s)) / prec;
  e.sd = std::sqrt(1 / prec);
  // Covariance C = s^2 I + s0^2 11^T: det = s^(2n) (1 + n s0^2 / s^2),
  // y^T C^-1 y = (sq - s0^2 sum^2 / (s^2 + n s0^2)) / s^2.
  const double logDet = 2 * n * std::log(s) + std::log(1 + n * s0 * s0 / (s * s));
  const double quad = (sq - s0 * s0 * sum * sum / (s * s + n * s0 * s0)) / (s * s);
  e.logZ = -0.5 * (n * std::log(2 * M_PI) + logDet + quad);
  return e;
}

} // namespace

TEST_CASE("LW and MH: conjugate posteriors within 4 MCSE", "[infer][lw][mh]") {
  auto prog = lowerText(kModels);
  struct Case {
    const char* module;
    double mean;
  };
  const NormalExact nn = normalExact(5, 1, {1.2, 0.8, 1.5});
  const Case cases[] = {{"BetaBern", 7.0 / 12.0}, {"NormNorm", nn.mean}, {"GammaPois", 12.0 / 5.0}};
  for (const Case& c : cases) {
    INFO(c.module);
    const ir::Function* f = prog->findFunction(c.module);
    REQUIRE(f);
    InferOptions o;
    o.seed = 12;
    o.samples = 20000;
    auto lw = inferLw(*f, {}, o);
    REQUIRE(lw);
    const auto& s = lw->summaries[0];
    CHECK(s.mcse > 0);
    CHECK(std::abs(s.mean - c.mean) < 4 * s.mcse);
    o.samples = 2000;
    o.warmup = 500;
    o.chains = 4;
    auto mh = inferMh(*f, {}, o);
    REQUIRE(mh);
    const auto& m = mh->summaries[0];
    CHECK(m.mcse > 0);
    CHECK(m.rhat < 1.05);
    CHECK(std::abs(m.mean - c.mean) < 4 * m.mcse);
    CHECK(mh->acceptRate > 0.05);
  }
  // LW's log-evidence on the normal-normal model: within 4 standard errors; the relative
  // variance of the weights gives the standard error of log mean w as sqrt((N / ESS - 1) / N).
  const ir::Function* f = prog->findFunction("NormNorm");
  InferOptions o;
  o.seed = 3;
  o.samples = 20000;
  auto lw = inferLw(*f, {}, o);
  REQUIRE(lw);
  const double se = std::sqrt((double(o.samples) / lw->ess - 1) / double(o.samples));
  CHECK(std::abs(lw->logEvidence - nn.logZ) < 4 * se + 1e-9);
}

TEST_CASE("SMC: sequential normal-normal mean and log-evidence", "[infer][smc]") {
  auto prog = lowerText(kModels);
  const ir::Function* f = prog->findFunction("Seq");
  const NormalExact e =
      normalExact(2, 1, {0.9, 1.7, 1.1, 0.4, 1.3, 2.0, 0.8, 1.6, 1.2, 0.7});
  std::vector<double> logZs;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    InferOptions o;
    o.seed = seed;
    o.samples = 2000;
    auto p = inferSmc(*f, {}, o);
    REQUIRE(p);
    CHECK(p->resamplings > 0); // ten observes of a N(0, 2) prior: the weights degenerate
    const auto& s = p->summaries[0];
    // MCSE from the final weights understates the error after resampling: allow 6.
    CHECK(std::abs(s.mean - e.mean) < 6 * s.mcse + 0.02);
    CHECK(std::abs(s.sd - e.sd) < 0.05);
    logZs.push_back(p->logEvidence);
  }
  double m = 0, v = 0;
  for (double z : logZs) m += z / double(logZs.size());
  for (double z : logZs) v += (z - m) * (z - m) / double(logZs.size() - 1);
  const double se = std::sqrt(v / double(logZs.size()));
  INFO("mean log Z " << m << " exact " << e.logZ << " se " << se);
  CHECK(std::abs(m - e.logZ) < 4 * se + 0.01);
  CHECK(std::abs(m - e.logZ) < 0.1);
}

TEST_CASE("MH: trans-dimensional model agrees with exact inference", "[infer][mh]") {
  auto prog = lowerText(kModels);
  const ir::Function* f = prog->findFunction("TD");
  auto ex = inferExact(*f, {}, InferOptions{});
  REQUIRE(ex);
  InferOptions o;
  o.seed = 2;
  o.samples = 3000;
  o.warmup = 300;
  o.chains = 4;
  auto mh = inferMh(*f, {}, o);
  REQUIRE(mh);
  for (size_t q = 0; q < 2; ++q) {
    INFO(mh->summaries[q].name << " exact " << ex->summaries[q].mean << " mh "
                               << mh->summaries[q].mean << " mcse " << mh->summaries[q].mcse);
    CHECK(std::abs(mh->summaries[q].mean - ex->summaries[q].mean) < 4 * mh->summaries[q].mcse);
  }
  // LW too, and its evidence against the exact one.
  o.samples = 20000;
  auto lw = inferLw(*f, {}, o);
  REQUIRE(lw);
  CHECK(std::abs(lw->summaries[1].mean - ex->summaries[1].mean) < 4 * lw->summaries[1].mcse);
  CHECK(std::abs(std::exp(lw->logEvidence) / std::exp(ex->logEvidence) - 1) < 0.03);
}

TEST_CASE("same seed, same output byte for byte, whatever the threads", "[infer][determinism]") {
  auto prog = lowerText(kModels);
  const ir::Function* f = prog->findFunction("NormNorm");
  auto render = [&](InferMethod m, uint64_t seed, int threads) {
    InferOptions o;
    o.seed = seed;
    o.threads = threads;
    o.samples = m == InferMethod::MH ? 300 : 5000;
    o.warmup = 100;
    o.chains = 3;
    Expected<Posterior> p = Error("unset");
    if (m == InferMethod::MH) p = inferMh(*f, {}, o);
    if (m == InferMethod::LW) p = inferLw(*f, {}, o);
    if (m == InferMethod::SMC) p = inferSmc(*f, {}, o);
    REQUIRE(p);
    std::ostringstream os;
    printTable(*p, prog->ctx(), os);
    return os.str() + toJson(*p).dump();
  };
  for (InferMethod m : {InferMethod::MH, InferMethod::LW, InferMethod::SMC}) {
    const std::string a = render(m, 42, 1);
    CHECK(a == render(m, 42, 2));
    CHECK(a == render(m, 42, 1));
    CHECK(a != render(m, 43, 2));
  }
}
