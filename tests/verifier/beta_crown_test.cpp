// beta-CROWN (verifier/beta_crown.h) on random ReLU networks and random sub-domains of phase
// splits: (1) the bound is sound at sampled points that satisfy the splits, with the optimised
// multipliers and with random ones (any beta >= 0, any alpha in [0, 1]), and so is its linear
// function against the Lagrangian c y - sum beta s h; (2) warm-started from alpha-CROWN's slopes
// it is never looser than alpha-CROWN alone beyond rounding, and tighter on a share of the rows;
// (3) the engine in ReLU-splitting mode with beta agrees with the exact Z3 encoding (both
// verdicts), with Z3 leaves and with the bounds alone deciding; (4) the root's pre-activation
// bounds with alpha-CROWN on every ReLU layer contain sampled values and are never looser than
// on the last layer alone, and the search that re-bounds an undecided root so agrees with Z3.
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

using namespace chassis;
using namespace chassis::verifier;
using chassis::testing::preActivations;
using chassis::testing::randomBox;
using chassis::testing::randomPhaseSplits;
using chassis::testing::satisfiesSplits;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

/// Row r of sum_k sum_j beta_rj s_j h_kj at the pre-activations `pre`.
double splitTerm(const Splits& splits, const Slopes& beta, const std::vector<VectorXd>& pre,
                 Eigen::Index r) {
  double t = 0;
  for (size_t k = 0; k < splits.size() && k < beta.size(); ++k)
    for (size_t j = 0; j < splits[k].size(); ++j)
      if (splits[k][j] != 0 && beta[k].size() > 0) {
        const Eigen::Index jj = static_cast<Eigen::Index>(j);
        t += std::max(0.0, beta[k](r, jj)) * (splits[k][j] > 0 ? 1.0 : -1.0) * pre[k][jj];
      }
  return t;
}

} // namespace

TEST_CASE("beta-CROWN bounds are sound on random split sub-domains, optimised or random "
          "multipliers, and never looser than alpha-CROWN",
          "[verifier][bounds][beta]") {
  Rng rng(7171);
  int rows = 0, tighter = 0, checkedPoints = 0, domainsUsed = 0, violations = 0;
  for (int t = 0; t < 60; ++t) {
    const int nIn = 2 + static_cast<int>(rng.uniform() * 6);
    const int hidden = 2 + t % 2;
    const int out = 1 + static_cast<int>(rng.uniform() * 3);
    auto net = testing::randomReluNet(rng, nIn, hidden, 10 + t % 7, out, 1.5, 0.3);
    Box box = randomBox(rng, nIn, 1.0);
    NetBounds nb0 = symbolicBounds(net, box);
    Splits splits = randomPhaseSplits(rng, net, nb0, 1 + t % 4);
    NetBounds nb = symbolicBounds(net, box, splits);
    if (nb.infeasible) continue;
    const int m = net.outputSize();
    MatrixXd C(2 * m, m);
    C << MatrixXd::Identity(m, m), -MatrixXd::Identity(m, m);
    AlphaCrownOptions ao;
    ao.iterations = 30;
    Slopes alphaOnly;
    LinearLower la = alphaCrownBound(net, box, nb, C, ao, &alphaOnly);
    // Cold start, and warm start from alpha-CROWN's slopes (as a child starts from its parent).
    Slopes alphaCold, betaCold, alphaWarm = alphaOnly, betaWarm;
    LinearLower cold = betaCrownBound(net, box, nb, C, splits, ao, &alphaCold, &betaCold);
    LinearLower warm = betaCrownBound(net, box, nb, C, splits, ao, &alphaWarm, &betaWarm);
    // Random slopes in [0, 1] and multipliers in [0, 3) on the split neurons (others noise that
    // must be ignored).
    Slopes alphaRand(net.layers.size()), betaRand(net.layers.size());
    for (size_t k = 0; k < net.layers.size(); ++k) {
      if (!net.layers[k].relu) continue;
      const Eigen::Index n = nb.lo[k].size();
      alphaRand[k].resize(C.rows(), n);
      betaRand[k].resize(C.rows(), n);
      for (Eigen::Index r = 0; r < C.rows(); ++r)
        for (Eigen::Index j = 0; j < n; ++j) {
          alphaRand[k](r, j) = rng.uniform();
          betaRand[k](r, j) = 3.0 * rng.uniform();
        }
    }
    LinearLower rnd = outputLowerBound(net, box, nb, C, &alphaRand, nullptr, &splits, &betaRand);
    ++domainsUsed;
    for (size_t k = 0; k < betaWarm.size(); ++k) {
      if (betaWarm[k].size() == 0) continue;
      CHECK(betaWarm[k].minCoeff() >= 0.0);
      for (Eigen::Index j = 0; j < betaWarm[k].cols(); ++j)
        if (k >= splits.size() || splits[k].empty() || splits[k][static_cast<size_t>(j)] == 0)
          CHECK(betaWarm[k].col(j).cwiseAbs().maxCoeff() == 0.0);
    }
    for (Eigen::Index i = 0; i < C.rows(); ++i) {
      ++rows;
      const double tol = 1e-9 * (1 + std::fabs(la.lower[i]));
      CHECK(warm.lower[i] >= la.lower[i] - tol);
      if (warm.lower[i] > la.lower[i] + tol) ++tighter;
    }
    for (int s = 0; s < 3000; ++s) {
      VectorXd x(nIn);
      for (int i = 0; i < nIn; ++i)
        x[i] = box.lo[i] + rng.uniform() * (box.hi[i] - box.lo[i]);
      auto pre = preActivations(net, x);
      if (!satisfiesSplits(splits, pre)) continue;
      ++checkedPoints;
      VectorXd cy = C * pre.back();
      for (Eigen::Index i = 0; i < cy.size(); ++i) {
        const double slack = 1e-9 * (1 + std::fabs(cy[i]));
        for (const LinearLower* b : {&cold, &warm, &rnd})
          if (cy[i] < b->lower[i]) ++violations;
        // The linear functions bound the Lagrangian from below on the domain.
        if (cy[i] - splitTerm(splits, betaWarm, pre, i) < warm.A.row(i).dot(x) + warm.c[i] - slack)
          ++violations;
        if (cy[i] - splitTerm(splits, betaRand, pre, i) < rnd.A.row(i).dot(x) + rnd.c[i] - slack)
          ++violations;
      }
    }
  }
  INFO(tighter << " of " << rows << " rows tighter than alpha-CROWN; " << checkedPoints
               << " points in " << domainsUsed << " domains");
  CHECK(violations == 0);
  CHECK(domainsUsed >= 40);
  CHECK(checkedPoints > 20000);
  CHECK(tighter * 2 >= rows); // the multipliers tighten at least half of the rows
}

TEST_CASE("ReLU splitting with beta-CROWN agrees with exact Z3, with Z3 leaves and with the "
          "bounds alone",
          "[verifier][z3][beta]") {
  Rng rng(5150);
  int referenced = 0, sats = 0, unsats = 0, wrong = 0;
  int decidedLeaves = 0, decidedBoundsBeta = 0, decidedBoundsNoBeta = 0;
  for (int t = 0; t < 16; ++t) {
    const int nIn = 6 + t % 4;
    const auto c = testing::netNearMinimumWithZ3(rng, nIn, 2, 8 + t % 3);
    if (!c.z3Violated) continue; // Z3 timed out: no reference verdict
    ++referenced;
    const bool refSat = *c.z3Violated;
    (refSat ? sats : unsats) += 1;
    // (a) the engine as configured by default, in ReLU-splitting mode, half without attack.
    NetVerifyOptions opt;
    opt.timeoutSec = 30;
    opt.seed = 11 + t;
    opt.attack = t % 2 == 0;
    opt.inputSplitMaxDim = 0;
    // (b) the bounds alone: no attack, no Z3 leaves, no LP; a domain they do not close when
    // every ReLU is split is left undecided.
    NetVerifyOptions bopt = testing::boundsAloneReluSplitting(opt.timeoutSec);
    bopt.seed = opt.seed;
    bopt.alphaIterations = 30;
    NetVerifyOptions nopt = bopt;
    nopt.betaCrown = false;
    int* counters[] = {&decidedLeaves, &decidedBoundsBeta, &decidedBoundsNoBeta};
    int which = 0;
    for (const NetVerifyOptions* o : {&opt, &bopt, &nopt}) {
      auto r = verifyNetwork(c.net, toNetworkQuery(c.prop), *o);
      REQUIRE(r);
      INFO("net " << t << " config " << which << ": " << vnncompName(r->verdict) << " ("
                  << r->reason << ", " << r->domains << " domains), Z3 "
                  << (refSat ? "sat" : "unsat"));
      if (testing::checkAgainstZ3(*r, c, wrong)) ++*counters[which];
      ++which;
    }
  }
  INFO("referenced " << referenced << " (sat " << sats << ", unsat " << unsats
                     << "); decided with leaves " << decidedLeaves << ", bounds alone with beta "
                     << decidedBoundsBeta << ", without " << decidedBoundsNoBeta);
  CHECK(wrong == 0);
  CHECK(referenced >= 4); // Z3 may time out on a few under load
  CHECK(sats >= 3);
  CHECK(unsats >= 3);
  CHECK(4 * decidedLeaves >= 3 * referenced);
  // Fully split domains are closed exactly only with the multipliers (Lagrangian duality).
  CHECK(decidedBoundsBeta >= decidedBoundsNoBeta);
  CHECK(decidedBoundsBeta > 0);
}

TEST_CASE("a sub-domain's intermediate bounds from its parent's contain every sampled "
          "pre-activation, are never looser than the parent's clamped, and often tighter",
          "[verifier][bounds][beta]") {
  Rng rng(9090);
  int domainsUsed = 0, infeasible = 0, checkedPoints = 0, violations = 0, looser = 0;
  long tightened = 0;
  for (int t = 0; t < 60; ++t) {
    const int nIn = 2 + static_cast<int>(rng.uniform() * 6);
    const int hidden = 2 + t % 3;
    auto net = testing::randomReluNet(rng, nIn, hidden, 8 + t % 7, 1 + t % 3, 1.5, 0.3);
    Box box = randomBox(rng, nIn, 1.0);
    // The parent: a random sub-domain, its last ReLU layer tightened by alpha-CROWN as the
    // search does at the root.
    Splits parentSplits = randomPhaseSplits(rng, net, symbolicBounds(net, box), t % 3);
    NetBounds parent = symbolicBounds(net, box, parentSplits);
    if (parent.infeasible) continue;
    AlphaCrownOptions ao;
    ao.iterations = 10;
    tightenLayerByAlphaCrown(net, box, parent, hidden - 1, ao);
    if (parent.infeasible) continue;
    // The child: one more neuron, unstable in the parent's bounds, split to a random phase.
    Splits childSplits = parentSplits;
    const Splits extra = randomPhaseSplits(rng, net, parent, 1);
    int splitLayer = -1;
    for (size_t k = 0; k < extra.size(); ++k)
      for (size_t j = 0; j < extra[k].size(); ++j)
        if (extra[k][j] != 0) {
          if (childSplits[k].empty()) childSplits[k].assign(extra[k].size(), 0);
          childSplits[k][j] = extra[k][j];
          splitLayer = static_cast<int>(k);
        }
    if (splitLayer < 0) continue;
    ++domainsUsed;
    const NetBounds clamped = subdomainBounds(net, box, parent, childSplits, 1 << 30);
    // Refined from the layer above the new split (as the search does), or from every layer on
    // every other domain.
    const NetBounds child =
        subdomainBounds(net, box, parent, childSplits, t % 2 == 0 ? splitLayer + 1 : 0);
    if (child.infeasible) ++infeasible;
    if (!child.infeasible && !clamped.infeasible)
      for (size_t k = 0; k < child.lo.size(); ++k)
        for (Eigen::Index j = 0; j < child.lo[k].size(); ++j) {
          if (child.lo[k][j] < clamped.lo[k][j] || child.hi[k][j] > clamped.hi[k][j]) ++looser;
          if (child.lo[k][j] > clamped.lo[k][j] || child.hi[k][j] < clamped.hi[k][j])
            ++tightened;
        }
    for (int s = 0; s < 2000; ++s) {
      VectorXd x(nIn);
      for (int i = 0; i < nIn; ++i)
        x[i] = box.lo[i] + rng.uniform() * (box.hi[i] - box.lo[i]);
      auto pre = preActivations(net, x);
      if (!satisfiesSplits(childSplits, pre)) continue;
      ++checkedPoints;
      if (child.infeasible) { // a point of the sub-domain: it was not empty
        ++violations;
        continue;
      }
      for (size_t k = 0; k < pre.size(); ++k)
        for (Eigen::Index j = 0; j < pre[k].size(); ++j) {
          const double slack = 1e-9 * (1 + std::fabs(pre[k][j]));
          if (pre[k][j] < child.lo[k][j] - slack || pre[k][j] > child.hi[k][j] + slack)
            ++violations;
        }
    }
  }
  INFO(domainsUsed << " sub-domains (" << infeasible << " proved empty), " << checkedPoints
                   << " points, " << tightened << " neuron bounds tightened by the refinement");
  CHECK(violations == 0);
  CHECK(looser == 0);
  CHECK(domainsUsed >= 40);
  CHECK(checkedPoints > 10000);
  CHECK(tightened > 0);
}

TEST_CASE("alpha-CROWN on every ReLU layer of the root contains every sampled pre-activation "
          "and is never looser than on the last layer alone",
          "[verifier][bounds][alpha]") {
  Rng rng(4711);
  int nets = 0, checkedPoints = 0, violations = 0, looser = 0;
  long tightened = 0;
  for (int t = 0; t < 30; ++t) {
    const int nIn = 3 + t % 5;
    const int hidden = 3 + t % 2;
    auto net = testing::randomReluNet(rng, nIn, hidden, 8 + t % 5, 1 + t % 3, 1.5, 0.3);
    Box box = randomBox(rng, nIn, 1.0);
    AlphaCrownOptions ao;
    ao.iterations = 10;
    // The search's first root bounds: the last ReLU layer tightened (rootAlphaLayers = 1).
    NetBounds last = symbolicBounds(net, box);
    tightenLayerByAlphaCrown(net, box, last, hidden - 1, ao);
    if (last.infeasible) continue;
    // An undecided root's second bounds: every ReLU layer, from those.
    NetBounds all = last;
    tightenLayersByAlphaCrown(net, box, all, ao);
    // The box is never empty.
    REQUIRE_FALSE(all.infeasible);
    ++nets;
    for (size_t k = 0; k < all.lo.size(); ++k)
      for (Eigen::Index j = 0; j < all.lo[k].size(); ++j) {
        if (all.lo[k][j] < last.lo[k][j] || all.hi[k][j] > last.hi[k][j]) ++looser;
        if (all.lo[k][j] > last.lo[k][j] || all.hi[k][j] < last.hi[k][j]) ++tightened;
      }
    for (int s = 0; s < 1000; ++s) {
      VectorXd x(nIn);
      for (int i = 0; i < nIn; ++i)
        x[i] = box.lo[i] + rng.uniform() * (box.hi[i] - box.lo[i]);
      // Corners too: where pre-activations reach their extremes most often.
      if (s % 4 == 0)
        for (int i = 0; i < nIn; ++i)
          x[i] = rng.uniform() < 0.5 ? box.lo[i] : box.hi[i];
      auto pre = preActivations(net, x);
      ++checkedPoints;
      for (size_t k = 0; k < pre.size(); ++k)
        for (Eigen::Index j = 0; j < pre[k].size(); ++j) {
          const double slack = 1e-9 * (1 + std::fabs(pre[k][j])); // pre's float64 rounding
          if (pre[k][j] < all.lo[k][j] - slack || pre[k][j] > all.hi[k][j] + slack) ++violations;
        }
    }
  }
  INFO(nets << " nets, " << checkedPoints << " points, " << tightened
            << " neuron bounds tightened by the lower layers' optimisation");
  CHECK(violations == 0);
  CHECK(looser == 0);
  CHECK(nets >= 25);
  CHECK(tightened > 0);
}

TEST_CASE("ReLU splitting with the undecided root bounded again on every layer agrees with "
          "exact Z3 and with the root bounded once",
          "[verifier][z3][beta]") {
  Rng rng(2718);
  int referenced = 0, sats = 0, unsats = 0, wrong = 0, decidedAll = 0, decidedOnce = 0;
  for (int t = 0; t < 6; ++t) {
    const int nIn = 4 + t % 4;
    const auto c = testing::netNearMinimumWithZ3(rng, nIn, 3, 5 + t % 3);
    if (!c.z3Violated) continue; // Z3 timed out: no reference verdict
    ++referenced;
    const bool refSat = *c.z3Violated;
    (refSat ? sats : unsats) += 1;
    // The bounds alone (no attack, no Z3 leaves, no LP) decide, in ReLU-splitting mode.
    NetVerifyOptions once = testing::boundsAloneReluSplitting(15);
    once.seed = 3 + t;
    once.rootAlphaAllLayers = false;
    NetVerifyOptions all = once;
    all.rootAlphaAllLayers = true;
    int* counters[] = {&decidedOnce, &decidedAll};
    int which = 0;
    for (const NetVerifyOptions* o : {&once, &all}) {
      auto r = verifyNetwork(c.net, toNetworkQuery(c.prop), *o);
      REQUIRE(r);
      INFO("net " << t << (which ? " root on every layer" : " root once") << ": "
                  << vnncompName(r->verdict) << " (" << r->reason << ", " << r->domains
                  << " domains), Z3 " << (refSat ? "sat" : "unsat"));
      if (testing::checkAgainstZ3(*r, c, wrong)) ++*counters[which];
      ++which;
    }
  }
  INFO("referenced " << referenced << " (sat " << sats << ", unsat " << unsats << "); decided "
                     << decidedOnce << " with the root bounded once, " << decidedAll
                     << " bounded again on every layer");
  CHECK(wrong == 0);
  CHECK(referenced >= 4); // Z3 may time out on a few under load
  CHECK(sats >= 2);
  CHECK(unsats >= 2);
  CHECK(2 * decidedAll >= referenced); // (how many each decides depends on the 15 s limit)
}

TEST_CASE("ReLU splitting choosing the split among more branching candidates agrees with exact Z3 "
          "and closes the bounds-alone searches in no more domains than the score alone",
          "[verifier][z3][beta]") {
  Rng rng(5150); // the nets of the test above, whose Z3 references answer within its limits
  int referenced = 0, wrong = 0, bothHold = 0;
  long domainsScore = 0, domainsCandidates = 0;
  for (int t = 0; t < 10; ++t) {
    const int nIn = 6 + t % 4;
    const auto c = testing::netNearMinimumWithZ3(rng, nIn, 2, 8 + t % 3);
    if (!c.z3Violated) continue; // Z3 timed out: no reference verdict
    ++referenced;
    // The bounds alone (no attack, Z3 leaves or LP), one thread (the same order every run):
    // the split chosen by the BaBSR-like score alone, or by the children's bounds of the
    // default number of highest-scoring candidates.
    NetVerifyOptions many = testing::boundsAloneReluSplitting(20);
    many.threads = 1;
    REQUIRE(many.branchCandidates > 8);
    NetVerifyOptions one = many;
    one.branchCandidates = 1;
    Verdict v[2];
    long doms[2];
    int which = 0;
    for (const NetVerifyOptions* o : {&one, &many}) {
      auto r = verifyNetwork(c.net, toNetworkQuery(c.prop), *o);
      REQUIRE(r);
      INFO("net " << t << " candidates " << o->branchCandidates << ": "
                  << vnncompName(r->verdict) << " (" << r->reason << ", " << r->domains
                  << " domains), Z3 " << (*c.z3Violated ? "sat" : "unsat"));
      testing::checkAgainstZ3(*r, c, wrong);
      v[which] = r->verdict;
      doms[which] = r->domains;
      ++which;
    }
    if (v[0] == Verdict::Holds && v[1] == Verdict::Holds) {
      ++bothHold;
      domainsScore += doms[0];
      domainsCandidates += doms[1];
    }
  }
  INFO("referenced " << referenced << ", both hold " << bothHold << ": domains " << domainsScore
                     << " with the score alone, " << domainsCandidates << " with candidates");
  CHECK(wrong == 0);
  CHECK(referenced >= 4); // Z3 may time out on a few under load
  CHECK(bothHold >= 2);
  CHECK(domainsCandidates <= domainsScore);
}
