// The statistical estimate (verifier/prob_bounds.h, method 4): the regularised incomplete beta
// function and the Clopper-Pearson interval against known values, the interval's coverage on a
// model with a known probability (a Poisson count, which no certified method handles), and the
// labelling: a statistical result is never `holds` or `violated`, and only made when asked.
#include "spec/frontend.h"
#include "spec/lower.h"
#include "verifier/prob_bounds.h"
#include "verifier/properties.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace chassis;
using namespace chassis::verifier;

namespace {

std::unique_ptr<ir::Program> loadStatProgram() {
  spec::DiagnosticEngine diags;
  auto ast = spec::loadProgram(
      std::string(CHASSIS_SOURCE_DIR) + "/tests/data/verify/statistical.chs", diags);
  INFO(diags.str());
  REQUIRE(ast);
  auto prog = ir::lower(*ast);
  REQUIRE(prog);
  REQUIRE(prog->properties.size() == 3);
  return std::make_unique<ir::Program>(std::move(*prog));
}

} // namespace

TEST_CASE("incomplete beta and Clopper-Pearson: known values", "[properties][stat]") {
  // I_x(a, b) for integer a, b is a binomial tail: I_0.5(2, 3) = P(Bin(4, 0.5) >= 2) = 11/16.
  CHECK(incompleteBetaRegularized(2, 3, 0.5) == Approx(11.0 / 16).epsilon(1e-13));
  CHECK(incompleteBetaRegularized(1, 1, 0.3) == Approx(0.3).epsilon(1e-13));
  // I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b.
  CHECK(incompleteBetaRegularized(7.5, 1, 0.9) == Approx(std::pow(0.9, 7.5)).epsilon(1e-12));
  CHECK(incompleteBetaRegularized(1, 40, 0.01) == Approx(1 - std::pow(0.99, 40)).epsilon(1e-12));
  // Symmetry, on both sides of the continued fraction's switch point.
  for (double x : {0.05, 0.3, 0.62, 0.97})
    CHECK(incompleteBetaRegularized(3.5, 9, x) ==
          Approx(1 - incompleteBetaRegularized(9, 3.5, 1 - x)).epsilon(1e-12));
  // Large parameters (the CP interval for n = 10^6): I at the mean of Beta(a, b) is near 1/2.
  CHECK(incompleteBetaRegularized(500000, 500001, 500000.0 / 1000001) == Approx(0.5).margin(2e-3));

  // Clopper-Pearson closed forms: k = 0 gives [0, 1 - (alpha/2)^(1/n)]; k = n the mirror.
  auto [lo0, hi0] = clopperPearson(0, 10, 0.95);
  CHECK(lo0 == 0);
  CHECK(hi0 == Approx(1 - std::pow(0.025, 0.1)).epsilon(1e-8));
  auto [lon, hin] = clopperPearson(10, 10, 0.95);
  CHECK(lon == Approx(std::pow(0.025, 0.1)).epsilon(1e-8));
  CHECK(hin == 1);
  // k = 5 of n = 10 at 95%: [0.187086, 0.812914] (the textbook figures).
  auto [lo5, hi5] = clopperPearson(5, 10, 0.95);
  CHECK(lo5 == Approx(0.187086).epsilon(1e-5));
  CHECK(hi5 == Approx(0.812914).epsilon(1e-5));
  // Its ends are where the binomial tails equal alpha/2.
  CHECK(incompleteBetaRegularized(5, 6, lo5) == Approx(0.025).epsilon(1e-6));
  CHECK(incompleteBetaRegularized(6, 5, hi5) == Approx(0.975).epsilon(1e-6));
}

TEST_CASE("Clopper-Pearson coverage on a Poisson count with a known probability",
          "[properties][stat]") {
  auto prog = loadStatProgram();
  const ir::Property& few = prog->properties[0];
  const ir::Property& given = prog->properties[2];
  const double p = 8.5 * std::exp(-3.0);
  const double pg = 7.5 * std::exp(-3.0) / (1 - std::exp(-3.0));
  VerifyOptions o;
  o.samples = 1000;
  o.confidence = 0.9;
  int misses = 0, missesGiven = 0, trials = 200;
  double width = 0;
  for (int t = 0; t < trials; ++t) {
    o.seed = uint64_t(1000 + t);
    auto e = estimateProbability(few, o);
    REQUIRE(e);
    CHECK(e->samples == 1000);
    CHECK(e->rejected == 0);
    CHECK(e->lo <= e->estimate);
    CHECK(e->estimate <= e->hi);
    if (!(e->lo <= p && p <= e->hi)) ++misses;
    width += e->hi - e->lo;
    auto g = estimateProbability(given, o);
    REQUIRE(g);
    CHECK(g->samples + g->rejected == 1000);
    CHECK(g->rejected > 20); // P(k = 0) = e^-3 ~ 0.05: about 50 rejected
    if (!(g->lo <= pg && pg <= g->hi)) ++missesGiven;
  }
  // A 90% interval misses about 10% of the time at most (CP is conservative): 20 of 200
  // expected; more than 34 has probability < 0.1%. Too few misses would mean a useless width.
  INFO("misses " << misses << ", given " << missesGiven << ", mean width " << width / trials);
  CHECK(misses <= 34);
  CHECK(missesGiven <= 34);
  CHECK(misses >= 3);
  // The normal approximation's width, 2 * 1.645 * sqrt(p (1 - p) / n) = 0.0514; CP is a bit wider.
  CHECK(width / trials > 0.05);
  CHECK(width / trials < 0.06);
}

TEST_CASE("statistical results: labelled, never holds/violated, only when asked",
          "[properties][stat]") {
  auto prog = loadStatProgram();
  VerifyOptions o;
  // Not asked: no certified method applies, so unknown, with no estimate.
  for (const ir::Property& p : prog->properties) {
    auto r = verifyProperty(*prog, p, o);
    CHECK(r.verdict == Verdict::Unknown);
    CHECK_FALSE(r.statistical);
  }
  o.statistical = true;
  o.samples = 20000;
  o.seed = 7;
  auto few = verifyProperty(*prog, prog->properties[0], o);
  CHECK(few.verdict == Verdict::Unknown); // never Holds
  REQUIRE(few.statistical);
  CHECK(few.stat.decision == 1); // 0.423 <= 0.5: likely holds
  CHECK(few.stat.samples == 20000);
  CHECK(few.stat.confidence == 0.99);
  CHECK(few.stat.lo < 8.5 * std::exp(-3.0));
  CHECK(few.stat.hi > 8.5 * std::exp(-3.0));
  auto many = verifyProperty(*prog, prog->properties[1], o);
  CHECK(many.verdict == Verdict::Unknown); // never Violated
  REQUIRE(many.statistical);
  CHECK(many.stat.decision == -1);
  // The same seed gives the same estimate (deterministic output).
  auto again = verifyProperty(*prog, prog->properties[0], o);
  CHECK(again.stat.hits == few.stat.hits);
  // A certified verdict is not replaced by an estimate.
  spec::DiagnosticEngine diags;
  auto ast = spec::fromString(R"(
module Coin() -> (h: bool) { h ~ Bernoulli(0.25); }
property q: P[Coin](h) <= 0.3;
)",
                              "coin.chs", diags);
  REQUIRE(ast);
  auto coin = ir::lower(*ast);
  REQUIRE(coin);
  auto rq = verifyProperty(*coin, coin->properties[0], o);
  CHECK(rq.verdict == Verdict::Holds);
  CHECK_FALSE(rq.statistical);
  // Bad options are errors, not estimates.
  VerifyOptions bad = o;
  bad.confidence = 1.0;
  CHECK_FALSE(estimateProbability(prog->properties[0], bad));
  bad = o;
  bad.samples = 0;
  CHECK_FALSE(estimateProbability(prog->properties[0], bad));
}
