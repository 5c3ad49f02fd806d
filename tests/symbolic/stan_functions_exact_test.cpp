// The Stan-style functions in the discrete model (exact inference by variable elimination):
// factor(lpdf(D(...), x)) weighs a trace exactly as observe(D(...), x) does, for every discrete
// distribution, including values outside the support (-inf: the trace is impossible); and
// log_mix / log_sum_exp of log masses, -inf components included, give the mixture's posterior
// computed by hand.
#include "symbolic/infer_exact.h"
#include "tests/symbolic/compile_chs.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace chassis;
using namespace chassis::symbolic;

namespace {

const QuantitySummary& row(const Posterior& p, const std::string& name) {
  for (auto& s : p.summaries)
    if (s.name == name) return s;
  FAIL("no quantity " << name);
  return p.summaries.front();
}

} // namespace

TEST_CASE("exact: factor(lpdf(D, x)) is observe(D, x) for every discrete distribution",
          "[infer][exact][stan-functions]") {
  auto prog = testing::lowerChs(R"(
module ViaFactor() -> (z: bool, k: int) {
    z ~ Bernoulli(0.3);
    k ~ DiscreteUniform(-1, 5);
    // One factor each: -inf + x is arithmetic on an infinity, an error in the interpreter.
    factor(lpdf(Bernoulli(0.8), z));
    factor(lpdf(Geometric(0.4), k));
    factor(lpdf(Categorical([1.0, 2.0, 0.0, 3.0]), k));
    factor(lpdf(DiscreteUniform(0, 4), k));
    factor(lpdf(Poisson(2.5), 3) + lpdf(Binomial(6, 0.35), 2));
}
module ViaObserve() -> (z: bool, k: int) {
    z ~ Bernoulli(0.3);
    k ~ DiscreteUniform(-1, 5);
    observe(Bernoulli(0.8), z);
    observe(Geometric(0.4), k);
    observe(Categorical([1.0, 2.0, 0.0, 3.0]), k);
    observe(DiscreteUniform(0, 4), k);
    observe(Poisson(2.5), 3);
    observe(Binomial(6, 0.35), 2);
}
)");
  auto a = inferExact(*prog->findFunction("ViaFactor"), {}, InferOptions{});
  auto b = inferExact(*prog->findFunction("ViaObserve"), {}, InferOptions{});
  INFO((a ? "" : a.error().str()) << (b ? "" : b.error().str()));
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->logEvidence == Approx(b->logEvidence).epsilon(1e-12));
  for (const char* q : {"z", "k"}) {
    const auto& da = row(*a, q).distribution;
    const auto& db = row(*b, q).distribution;
    REQUIRE(da.size() == db.size());
    for (size_t i = 0; i < da.size(); ++i) {
      INFO(q << " = " << da[i].first);
      CHECK(da[i].first == db[i].first);
      CHECK(da[i].second == Approx(db[i].second).margin(1e-12));
    }
  }
  // k = -1 and k = 5 are outside Categorical's support, k = 2 has mass 0: impossible.
  for (auto [v, p] : row(*a, "k").distribution)
    if (v == -1 || v == 2 || v >= 4) CHECK(p == 0);
}

TEST_CASE("exact: log_mix and log_sum_exp of log masses, with -inf components",
          "[infer][exact][stan-functions]") {
  auto prog = testing::lowerChs(R"(
module Mix() -> (k: int) {
    k ~ DiscreteUniform(0, 4);
    factor(log_mix(0.25, lpdf(Categorical([0.1, 0.2, 0.7]), k), lpdf(DiscreteUniform(1, 3), k)));
    factor(log_sum_exp([lpdf(Geometric(0.4), k), lpdf(Geometric(0.9), k), lpdf(Poisson(1.0), 0)]));
}
)");
  auto p = inferExact(*prog->findFunction("Mix"), {}, InferOptions{});
  INFO((p ? "" : p.error().str()));
  REQUIRE(p);
  double w[5], total = 0;
  for (int k = 0; k < 5; ++k) {
    double cat = k < 3 ? std::vector<double>{0.1, 0.2, 0.7}[size_t(k)] : 0.0;
    double du = k >= 1 && k <= 3 ? 1.0 / 3 : 0.0;
    double geo = 0.4 * std::pow(0.6, k) + 0.9 * std::pow(0.1, k) + std::exp(-1.0);
    w[k] = (0.25 * cat + 0.75 * du) * geo;
    total += w[k];
  }
  const auto& d = row(*p, "k").distribution;
  REQUIRE(d.size() == 5);
  for (int k = 0; k < 5; ++k) {
    INFO("k = " << k);
    CHECK(d[size_t(k)].second == Approx(w[k] / total).margin(1e-12));
  }
  CHECK(d[4].second == 0); // both components -inf at k = 4
}
