// Bounds of many sub-domains at once (bounds.h outputLowerBounds, beta_crown.h betaCrownBounds)
// on random ReLU networks, dense and with sparse layers (WeightProducts' sparse products), over
// random sub-domains of phase splits with their own boxes, rows, slopes and multipliers:
// (1) each batched bound equals the bound of its domain computed alone (beyond rounding) and
// contains the values of sampled points of its domain; (2) batched beta-CROWN is never looser
// than beta-CROWN on each domain alone beyond rounding, and sound at sampled points; (3) the
// engine in ReLU-splitting mode, batching domains or not, agrees with exact Z3.
#include "neural/affine_net.h"
#include "spec/rng.h"
#include "spec/vnnlib.h"
#include "verifier/alpha_crown.h"
#include "verifier/beta_crown.h"
#include "verifier/bounds.h"
#include "verifier/network_verifier.h"
#include "verifier/problem.h"
#include "verifier/vnnlib_query.h"
#include "verifier/z3_encoder.h"

#include "random_net_test_util.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <memory>

using namespace chassis;
using namespace chassis::verifier;
using chassis::testing::preActivations;
using chassis::testing::randomBox;
using chassis::testing::randomPhaseSplits;
using chassis::testing::satisfiesSplits;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

/// A random ReLU net; with `sparse`, its hidden-to-hidden layers are 80 x 80 (6400 weights, over
/// WeightProducts' 4096) with about 92% of the weights zeroed, so they take the sparse products.
neural::AffineNet batchTestNet(Rng& rng, int nIn, bool sparse) {
  if (!sparse) return testing::randomReluNet(rng, nIn, 2, 9 + static_cast<int>(rng.uniform() * 5), 3, 1.5, 0.3);
  auto net = testing::randomReluNet(rng, nIn, 3, 80, 3, 1.5, 0.3);
  for (auto& L : net.layers)
    if (L.W.size() >= 4096)
      for (Eigen::Index r = 0; r < L.W.rows(); ++r)
        for (Eigen::Index c = 0; c < L.W.cols(); ++c)
          L.W(r, c) = rng.uniform() < 0.92 ? 0.0 : 3.0 * L.W(r, c);
  return net;
}

/// One random sub-domain: its box (inside [-1, 1.6]^n), splits, bounds, rows and, at random,
/// slopes and multipliers in their ranges (or none).
struct TestDomain {
  Box box;
  Splits splits;
  NetBounds nb;
  MatrixXd C;
  Slopes alpha, beta;
  bool hasAlpha = false, hasBeta = false;
};

std::unique_ptr<TestDomain> randomDomain(Rng& rng, const neural::AffineNet& net, int nIn) {
  auto d = std::make_unique<TestDomain>();
  d->box = randomBox(rng, nIn, 0.6);
  d->splits = randomPhaseSplits(rng, net, symbolicBounds(net, d->box), static_cast<int>(rng.uniform() * 4));
  d->nb = symbolicBounds(net, d->box, d->splits);
  if (d->nb.infeasible) return nullptr;
  const int rows = 1 + static_cast<int>(rng.uniform() * 3);
  d->C.resize(rows, net.outputSize());
  for (Eigen::Index i = 0; i < d->C.size(); ++i) d->C.data()[i] = rng.normal();
  d->hasAlpha = rng.uniform() < 0.7;
  d->hasBeta = rng.uniform() < 0.7;
  d->alpha.resize(net.layers.size());
  d->beta.resize(net.layers.size());
  for (size_t k = 0; k < net.layers.size(); ++k) {
    if (!net.layers[k].relu) continue;
    const Eigen::Index n = d->nb.lo[k].size();
    d->alpha[k].resize(rows, n);
    d->beta[k].resize(rows, n);
    for (Eigen::Index i = 0; i < d->alpha[k].size(); ++i) {
      d->alpha[k].data()[i] = rng.uniform();
      d->beta[k].data()[i] = 2.0 * rng.uniform();
    }
  }
  return d;
}

/// Points of d's box satisfying its splits, at most `want` of `tries` samples.
std::vector<VectorXd> samplePoints(Rng& rng, const neural::AffineNet& net, const TestDomain& d,
                                   int tries) {
  std::vector<VectorXd> xs;
  for (int s = 0; s < tries; ++s) {
    VectorXd x(d.box.lo.size());
    for (Eigen::Index i = 0; i < x.size(); ++i)
      x[i] = d.box.lo[i] + rng.uniform() * (d.box.hi[i] - d.box.lo[i]);
    if (satisfiesSplits(d.splits, preActivations(net, x))) xs.push_back(x);
  }
  return xs;
}

bool close(double a, double b) { return std::fabs(a - b) <= 1e-9 * (1 + std::fabs(a) + std::fabs(b)); }

} // namespace

TEST_CASE("batched output bounds equal each sub-domain's bound alone and contain sampled values",
          "[verifier][bounds][batch]") {
  Rng rng(9021);
  int batches = 0, queries = 0, points = 0, violations = 0, mismatches = 0, sparseBatches = 0;
  for (int t = 0; t < 24; ++t) {
    const int nIn = 3 + static_cast<int>(rng.uniform() * 5);
    const bool sparse = t % 2 == 1;
    const auto net = batchTestNet(rng, nIn, sparse);
    const WeightProducts wp(net);
    std::vector<std::unique_ptr<TestDomain>> ds;
    const int K = 2 + t % 5;
    while (static_cast<int>(ds.size()) < K)
      if (auto d = randomDomain(rng, net, nIn)) ds.push_back(std::move(d));
    std::vector<std::vector<MatrixXd>> lams(ds.size());
    std::vector<BoundQuery> qs(ds.size());
    for (size_t i = 0; i < ds.size(); ++i) {
      qs[i].box = &ds[i]->box;
      qs[i].nb = &ds[i]->nb;
      qs[i].C = &ds[i]->C;
      qs[i].alpha = ds[i]->hasAlpha ? &ds[i]->alpha : nullptr;
      qs[i].lamOut = &lams[i];
      qs[i].splits = &ds[i]->splits;
      qs[i].beta = ds[i]->hasBeta ? &ds[i]->beta : nullptr;
    }
    const std::vector<LinearLower> batch = outputLowerBounds(net, qs, &wp);
    REQUIRE(batch.size() == ds.size());
    ++batches;
    if (sparse) ++sparseBatches;
    for (size_t i = 0; i < ds.size(); ++i) {
      const TestDomain& d = *ds[i];
      std::vector<MatrixXd> lam1;
      const LinearLower one = outputLowerBound(net, d.box, d.nb, d.C, qs[i].alpha, &lam1,
                                               &d.splits, qs[i].beta, &wp);
      ++queries;
      for (Eigen::Index r = 0; r < d.C.rows(); ++r) {
        if (!close(batch[i].lower[r], one.lower[r]) || !close(batch[i].c[r], one.c[r])) ++mismatches;
        for (Eigen::Index j = 0; j < one.A.cols(); ++j)
          if (!close(batch[i].A(r, j), one.A(r, j))) ++mismatches;
      }
      REQUIRE(lams[i].size() == lam1.size());
      for (size_t k = 0; k < lam1.size(); ++k) {
        REQUIRE(lams[i][k].rows() == lam1[k].rows());
        REQUIRE(lams[i][k].cols() == lam1[k].cols());
        for (Eigen::Index e = 0; e < lam1[k].size(); ++e)
          if (!close(lams[i][k].data()[e], lam1[k].data()[e])) ++mismatches;
      }
      for (const VectorXd& x : samplePoints(rng, net, d, 400)) {
        ++points;
        const VectorXd cy = d.C * net.forward(x);
        for (Eigen::Index r = 0; r < cy.size(); ++r)
          if (cy[r] < batch[i].lower[r]) ++violations;
      }
    }
  }
  INFO(batches << " batches (" << sparseBatches << " sparse), " << queries << " queries, "
               << points << " points");
  CHECK(mismatches == 0);
  CHECK(violations == 0);
  CHECK(queries >= 80);
  CHECK(points > 5000);
}

TEST_CASE("batched beta-CROWN is as tight as beta-CROWN on each sub-domain alone and sound",
          "[verifier][bounds][beta][batch]") {
  Rng rng(4417);
  int rows = 0, equal = 0, looser = 0, points = 0, violations = 0;
  for (int t = 0; t < 16; ++t) {
    const int nIn = 3 + static_cast<int>(rng.uniform() * 5);
    const auto net = batchTestNet(rng, nIn, t % 2 == 1);
    const WeightProducts wp(net);
    std::vector<std::unique_ptr<TestDomain>> ds;
    const int K = 2 + t % 6;
    while (static_cast<int>(ds.size()) < K)
      if (auto d = randomDomain(rng, net, nIn)) ds.push_back(std::move(d));
    AlphaCrownOptions ao;
    ao.iterations = 4 + t % 9;
    // Both start from the same values: the domain's own (a warm start) or none (a cold one).
    std::vector<Slopes> aB(ds.size()), bB(ds.size());
    std::vector<std::vector<MatrixXd>> lamB(ds.size());
    std::vector<BetaCrownQuery> qs(ds.size());
    for (size_t i = 0; i < ds.size(); ++i) {
      if (ds[i]->hasAlpha) aB[i] = ds[i]->alpha;
      if (ds[i]->hasBeta) bB[i] = ds[i]->beta;
      qs[i].box = &ds[i]->box;
      qs[i].nb = &ds[i]->nb;
      qs[i].C = &ds[i]->C;
      qs[i].splits = &ds[i]->splits;
      qs[i].alpha = &aB[i];
      qs[i].beta = (i % 3 == 2) ? nullptr : &bB[i]; // some domains alpha-CROWN alone
      qs[i].lamOut = &lamB[i];
    }
    const std::vector<LinearLower> batch = betaCrownBounds(net, qs, ao, &wp);
    for (size_t i = 0; i < ds.size(); ++i) {
      const TestDomain& d = *ds[i];
      Slopes a1 = d.hasAlpha ? d.alpha : Slopes{}, b1 = d.hasBeta ? d.beta : Slopes{};
      const LinearLower one = betaCrownBound(net, d.box, d.nb, d.C, d.splits, ao, &a1,
                                             qs[i].beta ? &b1 : nullptr, nullptr, &wp);
      for (Eigen::Index r = 0; r < d.C.rows(); ++r) {
        ++rows;
        const double tol = 1e-7 * (1 + std::fabs(one.lower[r]));
        if (batch[i].lower[r] < one.lower[r] - tol) ++looser;
        if (std::fabs(batch[i].lower[r] - one.lower[r]) <= tol) ++equal;
      }
      // The returned slopes are in [0, 1] and the multipliers >= 0.
      for (const MatrixXd& a : aB[i])
        if (a.size() > 0) CHECK((a.minCoeff() >= 0.0 && a.maxCoeff() <= 1.0));
      for (const MatrixXd& b : bB[i])
        if (b.size() > 0) CHECK(b.minCoeff() >= 0.0);
      for (const VectorXd& x : samplePoints(rng, net, d, 400)) {
        ++points;
        const VectorXd cy = d.C * net.forward(x);
        for (Eigen::Index r = 0; r < cy.size(); ++r)
          if (cy[r] < batch[i].lower[r]) ++violations;
      }
    }
  }
  INFO(rows << " rows: " << equal << " equal to the unbatched bound, " << looser << " looser; "
            << points << " points");
  CHECK(violations == 0);
  CHECK(looser == 0);
  CHECK(equal * 20 >= rows * 19); // the same optimisation: equal but for rounding
  CHECK(rows >= 80);
  CHECK(points > 3000);
}

TEST_CASE("ReLU splitting with batched sub-domains agrees with exact Z3 and with one domain at "
          "a time",
          "[verifier][z3][beta][batch]") {
  Rng rng(6262);
  int referenced = 0, wrong = 0, decidedBatched = 0, decidedSingle = 0, sats = 0, unsats = 0;
  for (int t = 0; t < 12; ++t) {
    const int nIn = 5 + t % 4;
    // c y <= rhs over a box, rhs between a sound lower bound of c y and the least value seen
    // at 40 points (so both verdicts occur).
    const auto c = testing::netNearMinimumWithZ3(rng, nIn, 2, 7 + t % 3);
    if (!c.z3Violated) continue; // Z3 timed out: no reference verdict
    ++referenced;
    const bool refSat = *c.z3Violated;
    (refSat ? sats : unsats) += 1;
    // The bounds alone decide (no attack, no Z3 leaves, no LP), batching or not.
    NetVerifyOptions opt = testing::boundsAloneReluSplitting(30);
    opt.seed = 3 + t;
    NetVerifyOptions single = opt;
    single.batchDomains = 1;
    opt.batchDomains = 8;
    int* counters[] = {&decidedBatched, &decidedSingle};
    int which = 0;
    for (const NetVerifyOptions* o : {&opt, &single}) {
      auto r = verifyNetwork(c.net, toNetworkQuery(c.prop), *o);
      REQUIRE(r);
      INFO("net " << t << (which == 0 ? " batched" : " single") << ": "
                  << verdictName(r->verdict) << " (" << r->reason << ", " << r->domains
                  << " domains), Z3 " << (refSat ? "sat" : "unsat"));
      if (testing::checkAgainstZ3(*r, c, wrong)) ++*counters[which];
      ++which;
    }
  }
  INFO("referenced " << referenced << " (sat " << sats << ", unsat " << unsats
                     << "); decided batched " << decidedBatched << ", single " << decidedSingle);
  CHECK(wrong == 0);
  CHECK(referenced >= 6); // Z3 may time out on a few under load
  CHECK(unsats >= 2);
  CHECK(2 * decidedBatched >= referenced);
  CHECK(decidedBatched == decidedSingle); // the same bounds, in another order
}

TEST_CASE("batched beta-CROWN stops a domain's steps once every row passes its stopAbove, the "
          "other domains' bounds unchanged",
          "[verifier][bounds][beta][batch]") {
  Rng rng(7731);
  int stoppedAtStart = 0, stoppedMidway = 0, unaffected = 0, points = 0, violations = 0;
  for (int t = 0; t < 12; ++t) {
    const int nIn = 3 + static_cast<int>(rng.uniform() * 5);
    const auto net = batchTestNet(rng, nIn, t % 2 == 1);
    const WeightProducts wp(net);
    std::vector<std::unique_ptr<TestDomain>> ds;
    const int K = 3 + t % 4;
    while (static_cast<int>(ds.size()) < K)
      if (auto d = randomDomain(rng, net, nIn)) ds.push_back(std::move(d));
    AlphaCrownOptions ao;
    ao.iterations = 12;
    // Three runs from the same starting values: no stopAbove (ref), none then stopAbove
    // thresholds (stop), and no steps at all (start).
    auto run = [&](const std::vector<VectorXd>* thresholds, int iterations) {
      std::vector<Slopes> a(ds.size()), b(ds.size());
      std::vector<BetaCrownQuery> qs(ds.size());
      for (size_t i = 0; i < ds.size(); ++i) {
        if (ds[i]->hasAlpha) a[i] = ds[i]->alpha;
        if (ds[i]->hasBeta) b[i] = ds[i]->beta;
        qs[i].box = &ds[i]->box;
        qs[i].nb = &ds[i]->nb;
        qs[i].C = &ds[i]->C;
        qs[i].splits = &ds[i]->splits;
        qs[i].alpha = &a[i];
        qs[i].beta = &b[i];
        if (thresholds) qs[i].stopAbove = &(*thresholds)[i];
      }
      AlphaCrownOptions o = ao;
      o.iterations = iterations;
      return betaCrownBounds(net, qs, o, &wp);
    };
    const std::vector<LinearLower> ref = run(nullptr, ao.iterations);
    const std::vector<LinearLower> start = run(nullptr, 0);
    // Domain i % 3 == 0: thresholds below its starting bound (no step taken); 1: above its
    // optimised bound (every step taken); 2: halfway between (it stops on the way).
    std::vector<VectorXd> th(ds.size());
    for (size_t i = 0; i < ds.size(); ++i) {
      const VectorXd& s = start[i].lower;
      const VectorXd& r = ref[i].lower;
      th[i] = i % 3 == 0 ? VectorXd(s.array() - 1.0)
              : i % 3 == 1 ? VectorXd(r.array() + 1.0)
                           : VectorXd(0.5 * (s + r));
    }
    const std::vector<LinearLower> stop = run(&th, ao.iterations);
    for (size_t i = 0; i < ds.size(); ++i) {
      const TestDomain& d = *ds[i];
      for (Eigen::Index r = 0; r < d.C.rows(); ++r) {
        const double tol = 1e-7 * (1 + std::fabs(ref[i].lower[r]));
        if (i % 3 == 0) {
          CHECK(std::fabs(stop[i].lower[r] - start[i].lower[r]) <= tol);
          ++stoppedAtStart;
        } else if (i % 3 == 1) {
          CHECK(std::fabs(stop[i].lower[r] - ref[i].lower[r]) <= tol);
          ++unaffected;
        } else {
          // The same steps as ref's up to the stop: between the start and ref.
          CHECK(stop[i].lower[r] >= start[i].lower[r] - tol);
          CHECK(stop[i].lower[r] <= ref[i].lower[r] + tol);
          ++stoppedMidway;
        }
      }
      if (i % 3 == 2) { // past every threshold if ref's steps got past them
        bool allPast = true;
        for (Eigen::Index r = 0; r < d.C.rows(); ++r)
          allPast = allPast && stop[i].lower[r] > th[i][r] - 1e-7 * (1 + std::fabs(th[i][r]));
        bool refPast = true;
        for (Eigen::Index r = 0; r < d.C.rows(); ++r)
          refPast = refPast && ref[i].lower[r] > th[i][r];
        if (refPast) CHECK(allPast);
      }
      for (const VectorXd& x : samplePoints(rng, net, d, 300)) {
        ++points;
        const VectorXd cy = d.C * net.forward(x);
        for (Eigen::Index r = 0; r < cy.size(); ++r)
          if (cy[r] < stop[i].lower[r]) ++violations;
      }
    }
  }
  INFO(stoppedAtStart << " rows stopped at the start, " << stoppedMidway << " midway, "
                      << unaffected << " unaffected; " << points << " points");
  CHECK(violations == 0);
  CHECK(stoppedAtStart >= 10);
  CHECK(stoppedMidway >= 10);
  CHECK(unaffected >= 10);
  CHECK(points > 2000);
}

TEST_CASE("batched bounds with a parent's magnitudes for the rounding allowance differ from "
          "the children's own by rounding only and contain sampled values",
          "[verifier][bounds][batch]") {
  Rng rng(5150);
  int queries = 0, points = 0, violations = 0, tighter = 0, apart = 0;
  for (int t = 0; t < 16; ++t) {
    const int nIn = 3 + static_cast<int>(rng.uniform() * 5);
    const auto net = batchTestNet(rng, nIn, t % 2 == 1);
    const WeightProducts wp(net);
    std::unique_ptr<TestDomain> parent;
    while (!parent) parent = randomDomain(rng, net, nIn);
    // Both phases of up to 6 unstable neurons of the parent: the children of chooseSplit.
    std::vector<std::pair<size_t, Eigen::Index>> unstable;
    for (size_t k = 0; k < net.layers.size(); ++k)
      if (net.layers[k].relu)
        for (Eigen::Index j = 0; j < parent->nb.lo[k].size(); ++j)
          if (parent->nb.lo[k][j] < 0 && parent->nb.hi[k][j] > 0) unstable.emplace_back(k, j);
    if (unstable.size() > 6) unstable.resize(6);
    std::vector<TestDomain> child(2 * unstable.size());
    for (size_t i = 0; i < child.size(); ++i) {
      TestDomain& c = child[i];
      c = *parent;
      const auto [k, j] = unstable[i / 2];
      if (c.splits[k].empty()) c.splits[k].assign(static_cast<size_t>(c.nb.lo[k].size()), 0);
      c.splits[k][static_cast<size_t>(j)] = i % 2 == 0 ? 1 : -1;
      if (i % 2 == 0) c.nb.lo[k][j] = 0.0;
      else c.nb.hi[k][j] = 0.0;
    }
    std::vector<BoundQuery> own(child.size()), shared(child.size());
    for (size_t i = 0; i < child.size(); ++i) {
      BoundQuery& q = own[i];
      q.box = &child[i].box;
      q.nb = &child[i].nb;
      q.C = &child[i].C;
      q.alpha = child[i].hasAlpha ? &child[i].alpha : nullptr;
      q.splits = &child[i].splits;
      q.beta = child[i].hasBeta ? &child[i].beta : nullptr;
      shared[i] = q;
      shared[i].magnitudes = &parent->nb;
    }
    const std::vector<LinearLower> a = outputLowerBounds(net, own, &wp);
    const std::vector<LinearLower> b = outputLowerBounds(net, shared, &wp);
    for (size_t i = 0; i < child.size(); ++i) {
      ++queries;
      for (Eigen::Index r = 0; r < child[i].C.rows(); ++r) {
        // The same linear function, a larger or equal allowance.
        if (b[i].lower[r] > a[i].lower[r]) ++tighter;
        if (std::fabs(b[i].lower[r] - a[i].lower[r]) > 1e-9 * (1 + std::fabs(a[i].lower[r])))
          ++apart;
      }
      for (const VectorXd& x : samplePoints(rng, net, child[i], 300)) {
        ++points;
        const VectorXd cy = child[i].C * net.forward(x);
        for (Eigen::Index r = 0; r < cy.size(); ++r)
          if (cy[r] < b[i].lower[r]) ++violations;
      }
    }
  }
  INFO(queries << " children, " << points << " points");
  CHECK(violations == 0);
  CHECK(tighter == 0);
  CHECK(apart == 0);
  CHECK(queries >= 60);
  CHECK(points > 2000);
}
