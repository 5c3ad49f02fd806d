// Exact inference tests: the factor algebra on hand examples, the min-fill order on small graphs,
// variable elimination against brute-force enumeration of the joint (in this test only) on random
// Bayesian networks, a 60-node network of small treewidth, and evidence so improbable that a
// linear-space product would underflow.
#include "symbolic/ve.h"

#include "spec/rng.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace chassis::symbolic;
using chassis::Rng;

namespace {

Factor make(std::vector<VarId> vars, std::vector<int> cards, std::vector<double> values) {
  auto f = Factor::fromValues(std::move(vars), std::move(cards), std::move(values));
  REQUIRE(f);
  return *f;
}

double val(const Factor& f, std::vector<int> a) {
  return std::exp(f.logValue(a));
}

// A random Bayesian network over n nodes: node i draws up to maxParents parents among the
// `window` nodes before it (all earlier nodes if window <= 0), 2-3 states, Dirichlet(1)-ish CPTs.
FactorModel randomNetwork(Rng& rng, int n, int maxParents, int window) {
  FactorModel m;
  for (int i = 0; i < n; ++i)
    m.vars.push_back({"v" + std::to_string(i), 2 + int(rng.uniform() * 2)});
  for (int i = 0; i < n; ++i) {
    std::vector<VarId> parents;
    const int lo = window > 0 ? std::max(0, i - window) : 0;
    for (int j = lo; j < i; ++j)
      if (int(parents.size()) < maxParents && rng.uniform() < 0.5) parents.push_back(j);
    std::vector<VarId> vars = parents;
    vars.push_back(i);
    std::vector<int> cards;
    int rows = 1;
    for (VarId v : vars)
      cards.push_back(m.vars[v].card);
    for (VarId v : parents)
      rows *= m.vars[v].card;
    std::vector<double> table;
    for (int r = 0; r < rows; ++r) {
      std::vector<double> row(m.vars[i].card);
      double s = 0;
      for (double& x : row) {
        x = -std::log(rng.uniform()) + (rng.uniform() < 0.1 ? 0 : 1e-3);
        s += x;
      }
      for (double x : row)
        table.push_back(x / s);
    }
    m.factors.push_back(make(vars, cards, table));
  }
  return m;
}

struct Brute {
  std::vector<std::vector<double>> marginals; // unnormalised, then normalised
  double pe = 0;
};

// Enumerates every joint assignment of the first `n` variables (factors must mention only them).
Brute bruteForce(const FactorModel& m, int n, const std::vector<Observation>& ev) {
  Brute b;
  for (int i = 0; i < n; ++i)
    b.marginals.emplace_back(m.vars[i].card, 0.0);
  std::vector<int> x(n, 0);
  for (;;) {
    bool consistent = true;
    for (auto o : ev)
      consistent = consistent && x[o.var] == o.state;
    if (consistent) {
      double p = 1;
      for (const Factor& f : m.factors) {
        std::vector<int> a;
        for (VarId v : f.vars())
          a.push_back(x[v]);
        p *= val(f, a);
      }
      b.pe += p;
      for (int i = 0; i < n; ++i)
        b.marginals[i][x[i]] += p;
    }
    int d = 0;
    while (d < n && ++x[d] == m.vars[d].card)
      x[d++] = 0;
    if (d == n) break;
  }
  for (auto& mg : b.marginals)
    for (double& p : mg)
      p /= b.pe;
  return b;
}

} // namespace

TEST_CASE("ve: factor product, sum-out and reduce on hand examples", "[ve]") {
  // phi(A, B) over A in {0,1}, B in {0,1,2}; psi(B, C) over C in {0,1}.
  Factor phi = make({0, 1}, {2, 3}, {1, 2, 3, 4, 5, 6});
  Factor psi = make({1, 2}, {3, 2}, {0.5, 1.5, 2, 0, 1, 1});
  Factor p = phi.product(psi);
  REQUIRE(p.vars() == std::vector<VarId>{0, 1, 2});
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 2; ++c)
        CHECK(val(p, {a, b, c}) == Approx(val(phi, {a, b}) * val(psi, {b, c})).epsilon(1e-14));
  Factor s = phi.sumOut(1);
  REQUIRE(s.vars() == std::vector<VarId>{0});
  CHECK(val(s, {0}) == Approx(6).epsilon(1e-14));
  CHECK(val(s, {1}) == Approx(15).epsilon(1e-14));
  Factor s0 = phi.sumOut(0);
  CHECK(val(s0, {2}) == Approx(9).epsilon(1e-14));
  Factor r = phi.reduce(1, 2);
  REQUIRE(r.vars() == std::vector<VarId>{0});
  CHECK(val(r, {1}) == Approx(6).epsilon(1e-14));
  CHECK(std::exp(phi.logTotal()) == Approx(21).epsilon(1e-14));
  auto nz = psi.normalized();
  CHECK(nz[1] == Approx(1.5 / 6).epsilon(1e-14));
  CHECK(val(psi, {1, 1}) == 0);
}

TEST_CASE("ve: factor construction errors", "[ve]") {
  CHECK(!Factor::fromValues({0, 1}, {2, 2}, {1, 2, 3}));
  CHECK(Factor::fromValues({0, 1}, {2, 2}, {1, 2, 3}).error().message ==
        "factor: expected 4 values, got 3");
  CHECK(!Factor::fromValues({0, 0}, {2, 2}, {1, 2, 3, 4}));
  CHECK(!Factor::fromValues({0}, {0}, {}));
  CHECK(!Factor::fromValues({0}, {2}, {1, -1}));
  CHECK(!Factor::fromValues({0}, {2}, {1, NAN}));
  FactorModel m;
  m.vars = {{"a", 2}};
  m.factors = {make({0}, {2}, {0.25, 0.75})};
  const VarId q[] = {0};
  const Observation bad[] = {{0, 2}};
  auto r = variableElimination(m, q, bad);
  REQUIRE(!r);
  CHECK(r.error().message == "evidence state 2 out of range for variable 'a' with 2 states");
  const Observation both[] = {{0, 0}, {0, 1}};
  CHECK(!variableElimination(m, q, both));
  const VarId unknown[] = {3};
  CHECK(!variableElimination(m, unknown, {}));
  m.factors = {make({0}, {2}, {0, 1})};
  const Observation impossible[] = {{0, 0}};
  r = variableElimination(m, q, impossible);
  REQUIRE(!r);
  CHECK(r.error().message == "the evidence has probability zero");
}

TEST_CASE("ve: min-fill order is greedy and deterministic", "[ve]") {
  // Chain d - b - a - c (names out of id order): ends have fill 0, degree 1; ties go by name.
  std::vector<VarInfo> vars = {{"d", 2}, {"b", 2}, {"a", 2}, {"c", 2}};
  std::vector<Factor> fs = {make({0, 1}, {2, 2}, {1, 1, 1, 1}), make({1, 2}, {2, 2}, {1, 1, 1, 1}),
                            make({2, 3}, {2, 2}, {1, 1, 1, 1})};
  CHECK(minFillOrder(vars, fs, {}) == std::vector<VarId>{3, 2, 1, 0}); // c, a, b, d
  const VarId keep[] = {2};
  CHECK(minFillOrder(vars, fs, keep) == std::vector<VarId>{3, 0, 1}); // c, d, then b
  // A 4-cycle x0-x1-x2-x3-x0 plus a pendant x4 on x0: x4 first (fill 0); then every cycle
  // vertex has fill 1 and degree 2, so the name decides.
  std::vector<VarInfo> cyc = {{"x0", 2}, {"x1", 2}, {"x2", 2}, {"x3", 2}, {"x4", 2}};
  std::vector<Factor> cf = {make({0, 1}, {2, 2}, {1, 1, 1, 1}), make({1, 2}, {2, 2}, {1, 1, 1, 1}),
                            make({2, 3}, {2, 2}, {1, 1, 1, 1}), make({3, 0}, {2, 2}, {1, 1, 1, 1}),
                            make({0, 4}, {2, 2}, {1, 1, 1, 1})};
  auto order = minFillOrder(cyc, cf, {});
  REQUIRE(order.size() == 5);
  CHECK(order[0] == 4);
  CHECK(order[1] == 0);
}

TEST_CASE("ve: random Bayesian networks match brute-force enumeration", "[ve]") {
  Rng rng(20261121);
  int checked = 0;
  for (int t = 0; t < 25; ++t) {
    const int n = 3 + t % 10; // 3..12 nodes
    FactorModel m = randomNetwork(rng, n, 3, 0);
    std::vector<Observation> ev;
    const int nev = int(rng.uniform() * 4);
    for (int e = 0; e < nev; ++e) {
      const VarId v = VarId(rng.uniform() * n);
      bool dup = false;
      for (auto o : ev)
        dup = dup || o.var == v;
      if (!dup) ev.push_back({v, int(rng.uniform() * m.vars[v].card)});
    }
    std::vector<VarId> query;
    for (int i = 0; i < n; ++i)
      query.push_back(i);
    const Brute b = bruteForce(m, n, ev);
    auto r = variableElimination(m, query, ev);
    INFO("network " << t << " with " << n << " nodes, " << ev.size() << " observations");
    REQUIRE(r);
    CHECK(std::abs(std::exp(r->logEvidence) - b.pe) <= 1e-12 * b.pe);
    for (int i = 0; i < n; ++i)
      for (int s = 0; s < m.vars[i].card; ++s)
        CHECK(std::abs(r->marginals[i][s] - b.marginals[i][s]) <= 1e-12);
    ++checked;
  }
  CHECK(checked == 25);
}

TEST_CASE("ve: a 60-node network of small treewidth", "[ve]") {
  Rng rng(60);
  // Parents only among the 3 preceding nodes: treewidth <= 3, so elimination is cheap.
  FactorModel m = randomNetwork(rng, 60, 3, 3);
  std::vector<VarId> query;
  for (int i = 0; i < 60; ++i)
    query.push_back(i);
  auto r = variableElimination(m, query, {});
  REQUIRE(r);
  CHECK(std::abs(r->logEvidence) < 1e-12); // no evidence: Z = 1
  for (const auto& mg : r->marginals) {
    double s = 0;
    for (double p : mg)
      s += p;
    CHECK(std::abs(s - 1) < 1e-12);
  }
  // P(v10) depends only on its ancestors, all among v0..v10: brute force over that subnetwork.
  FactorModel sub;
  sub.vars.assign(m.vars.begin(), m.vars.begin() + 11);
  sub.factors.assign(m.factors.begin(), m.factors.begin() + 11);
  const Brute b = bruteForce(sub, 11, {});
  for (int s = 0; s < m.vars[10].card; ++s)
    CHECK(std::abs(r->marginals[10][s] - b.marginals[10][s]) <= 1e-12);
  // With evidence at both ends, marginals still normalise and Z is a probability.
  const Observation ev[] = {{0, 1}, {59, 0}, {30, 1}};
  auto re = variableElimination(m, query, ev);
  REQUIRE(re);
  CHECK(re->logEvidence < 0);
  CHECK(re->marginals[30][1] == 1.0);
  for (const auto& mg : re->marginals) {
    double s = 0;
    for (double p : mg)
      s += p;
    CHECK(std::abs(s - 1) < 1e-12);
  }
}

TEST_CASE("ve: a 1000-node network runs and normalises", "[ve]") {
  Rng rng(1000);
  FactorModel m = randomNetwork(rng, 1000, 3, 4);
  std::vector<VarId> query;
  for (int i = 0; i < 1000; ++i)
    query.push_back(i);
  const Observation ev[] = {{999, 1}, {500, 0}};
  auto r = variableElimination(m, query, ev);
  REQUIRE(r);
  CHECK(r->logEvidence < 0);
  int normalised = 0;
  for (const auto& mg : r->marginals) {
    double s = 0;
    for (double p : mg)
      s += p;
    normalised += std::abs(s - 1) < 1e-12;
  }
  CHECK(normalised == 1000);
}

TEST_CASE("ve: improbable evidence does not underflow", "[ve]") {
  // A chain of 2000 binary nodes, P(x_{i+1} = x_i) = 0.01: observing all-alternating states has
  // probability 0.5 * 0.99^1999, and observing all zeros 0.5 * 0.01^1999 (about 1e-3998).
  const int n = 2000;
  FactorModel m;
  for (int i = 0; i < n; ++i)
    m.vars.push_back({"x" + std::to_string(i), 2});
  m.factors.push_back(make({0}, {2}, {0.5, 0.5}));
  for (int i = 1; i < n; ++i)
    m.factors.push_back(make({i - 1, i}, {2, 2}, {0.01, 0.99, 0.99, 0.01}));
  std::vector<Observation> ev;
  for (int i = 0; i < n; i += 2)
    ev.push_back({i, 0});
  const VarId q[] = {1, n - 1};
  auto r = variableElimination(m, q, ev);
  REQUIRE(r);
  // Every other node observed 0: each unobserved x_{2k+1} between two zeros has weight
  // 0.01^2 (x=0) or 0.99^2 (x=1); the last node (odd, after x_{n-2}) weighs 0.01 or 0.99.
  const double pair = 0.01 * 0.01 + 0.99 * 0.99;
  const double expect = std::log(0.5) + (n / 2 - 1) * std::log(pair);
  CHECK(std::abs(r->logEvidence - expect) < 1e-9 * std::abs(expect));
  CHECK(r->marginals[0][1] == Approx(0.99 * 0.99 / pair).epsilon(1e-12));
  CHECK(r->marginals[1][1] == Approx(0.99).epsilon(1e-12));
  std::vector<Observation> zeros;
  for (int i = 0; i < n; ++i)
    zeros.push_back({i, 0});
  auto rz = variableElimination(m, {}, zeros);
  REQUIRE(rz);
  const double ez = std::log(0.5) + (n - 1) * std::log(0.01);
  CHECK(std::abs(rz->logEvidence - ez) < 1e-12 * std::abs(ez));
}
