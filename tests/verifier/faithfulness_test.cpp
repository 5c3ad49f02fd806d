// Faithfulness of circuits as proofs (verifier/faithfulness.h): the composite networks
// (difference, product, leak) compute what they claim on random points, nets of different depths
// and layer kinds included; certified maximum deviations bracket the deviation sampled at
// 20,000 points; a planted weak path that flips the decision in a 5% sliver of the box passes a
// data-based agreement check yet is caught by the decision-agreement proof; and the leak of a
// circuit is zero exactly when the circuit is the network with all its units patched.
#include "neural/affine_net.h"
#include "spec/rng.h"
#include "verifier/faithfulness.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

using namespace chassis;
using namespace chassis::verifier;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using neural::AffineLayer;
using neural::AffineNet;

namespace {

/// Hidden layers of the given widths (ReLU unless listed in `linear`), then `out` outputs.
AffineNet randomNet(Rng& rng, int in, const std::vector<int>& widths, int out,
                    const std::vector<int>& linear = {}, bool outputRelu = false) {
  AffineNet net;
  net.inputSize = in;
  int prev = in;
  for (size_t k = 0; k <= widths.size(); ++k) {
    const int rows = k == widths.size() ? out : widths[k];
    AffineLayer L;
    L.W.resize(rows, prev);
    L.b.resize(rows);
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < prev; ++c)
        L.W(r, c) = rng.normal() / std::sqrt(double(prev));
      L.b[r] = 0.3 * rng.normal();
    }
    const bool isLinear =
        std::find(linear.begin(), linear.end(), static_cast<int>(k)) != linear.end();
    L.relu = k < widths.size() ? !isLinear : outputRelu;
    net.layers.push_back(L);
    prev = rows;
  }
  return net;
}

/// The net with each weight zeroed with probability p (a zero-ablated circuit, same shape).
AffineNet ablate(Rng& rng, const AffineNet& net, double p) {
  AffineNet c = net;
  for (AffineLayer& L : c.layers)
    for (Eigen::Index i = 0; i < L.W.size(); ++i)
      if (rng.uniform() < p) L.W.data()[i] = 0.0;
  return c;
}

Box cube(int n, double lo, double hi) {
  return {VectorXd::Constant(n, lo), VectorXd::Constant(n, hi)};
}

VectorXd uniformPoint(Rng& rng, const Box& b) {
  VectorXd x(b.lo.size());
  for (Eigen::Index i = 0; i < x.size(); ++i)
    x[i] = b.lo[i] + rng.uniform() * (b.hi[i] - b.lo[i]);
  return x;
}

double maxAbs(const VectorXd& v) {
  return v.cwiseAbs().maxCoeff();
}

std::vector<std::vector<bool>> allUnits(const AffineNet& N, bool value) {
  std::vector<std::vector<bool>> S;
  for (size_t k = 0; k + 1 < N.layers.size(); ++k)
    S.push_back(std::vector<bool>(static_cast<size_t>(N.layers[k].W.rows()), value));
  return S;
}

VectorXd patched(const AffineNet& N, const std::vector<std::vector<bool>>& S, const VectorXd& x,
                 const VectorXd& xp) {
  return patchedForward(N, S, x.transpose(), xp.transpose()).row(0).transpose();
}

Eigen::Index argmaxFirst(const VectorXd& y) {
  Eigen::Index best = 0;
  for (Eigen::Index i = 1; i < y.size(); ++i)
    if (y[i] > y[best]) best = i;
  return best;
}

/// The planted weak path, n = 3 inputs on [-1, 1]^3. Hidden units: h0 = relu(x0),
/// h1 = relu(-x0) (the main path, class 1 iff x0 > 0) and h2 = relu(10 (x1 - 0.9)), active only
/// for x1 > 0.9, which adds 5 h2 to logit 0 and so flips class 1 to class 0 there.
/// withPath = false zeroes the path's output weight (the circuit without it).
AffineNet plantedNet(bool withPath) {
  AffineNet N;
  N.inputSize = 3;
  AffineLayer h;
  h.W = MatrixXd::Zero(3, 3);
  h.W(0, 0) = 1;
  h.W(1, 0) = -1;
  h.W(2, 1) = 10;
  h.b = VectorXd::Zero(3);
  h.b[2] = -9;
  h.relu = true;
  AffineLayer o;
  o.W = MatrixXd::Zero(2, 3);
  o.W(0, 1) = 1;
  o.W(1, 0) = 1;
  o.W(0, 2) = withPath ? 5 : 0;
  o.b = VectorXd::Zero(2);
  N.layers = {h, o};
  return N;
}

/// The same with one output y = h0 - h1 - 5 h2 (decision y > 0) for the Sign rule.
AffineNet plantedSignNet(bool withPath) {
  AffineNet N = plantedNet(withPath);
  AffineLayer& o = N.layers[1];
  o.W = MatrixXd::Zero(1, 3);
  o.W(0, 0) = 1;
  o.W(0, 1) = -1;
  o.W(0, 2) = withPath ? -5 : 0;
  o.b = VectorXd::Zero(1);
  return N;
}

} // namespace

TEST_CASE("composite networks compute A - B, [A; B] and the leak on random points",
          "[faithfulness]") {
  Rng rng(11);
  struct Pair {
    AffineNet A, B;
  };
  std::vector<Pair> pairs;
  pairs.push_back({randomNet(rng, 4, {6, 5}, 3), randomNet(rng, 4, {7}, 3)});
  pairs.push_back({randomNet(rng, 4, {5}, 3), randomNet(rng, 4, {4, 6, 3}, 3)});
  pairs.push_back({randomNet(rng, 4, {}, 3), randomNet(rng, 4, {5, 5}, 3)}); // linear A
  pairs.push_back({randomNet(rng, 4, {6, 4}, 3, {0}), randomNet(rng, 4, {5}, 3, {}, true)});
  pairs.push_back({randomNet(rng, 4, {}, 3), randomNet(rng, 4, {}, 3)});
  const Box box = cube(4, -2, 2);
  for (const Pair& p : pairs) {
    const AffineNet D = differenceNetwork(p.A, p.B);
    const AffineNet P = productNetwork(p.A, p.B);
    const AffineNet Dm = mergeIdenticalNeurons(D);
    REQUIRE(D.inputSize == 4);
    REQUIRE(D.outputSize() == 3);
    REQUIRE(P.outputSize() == 6);
    for (size_t k = 0; k + 1 < D.layers.size(); ++k)
      REQUIRE(D.layers[k].relu);
    REQUIRE_FALSE(D.layers.back().relu);
    for (int t = 0; t < 200; ++t) {
      const VectorXd x = uniformPoint(rng, box);
      const VectorXd a = p.A.forward(x), b = p.B.forward(x);
      const double tol = 1e-12 * (1 + maxAbs(a) + maxAbs(b));
      REQUIRE(maxAbs(D.forward(x) - (a - b)) <= tol);
      REQUIRE(maxAbs(Dm.forward(x) - (a - b)) <= tol);
      VectorXd ab(6);
      ab << a, b;
      REQUIRE(maxAbs(P.forward(x) - ab) <= tol);
    }
    // The leak of B as a circuit of A needs the same shape only for N = A's units.
    std::vector<std::vector<bool>> S = allUnits(p.A, false);
    for (auto& layer : S)
      for (size_t i = 0; i < layer.size(); ++i)
        layer[i] = rng.uniform() < 0.5;
    const AffineNet Lk = leakNetwork(p.A, S, p.B);
    REQUIRE(Lk.inputSize == 8);
    for (int t = 0; t < 200; ++t) {
      const VectorXd x = uniformPoint(rng, box), xp = uniformPoint(rng, box);
      VectorXd z(8);
      z << x, xp;
      const VectorXd want = patched(p.A, S, x, xp) - p.B.forward(xp);
      REQUIRE(maxAbs(Lk.forward(z) - want) <= 1e-12 * (1 + maxAbs(want) + maxAbs(xp)));
    }
  }
}

TEST_CASE("patchedForward: no units is N(x), all units is N(x'), one unit by hand",
          "[faithfulness]") {
  Rng rng(5);
  const AffineNet N = randomNet(rng, 3, {4, 4}, 2);
  MatrixXd X(10, 3), Xp(10, 3);
  for (Eigen::Index i = 0; i < X.size(); ++i) {
    X.data()[i] = 2 * rng.uniform() - 1;
    Xp.data()[i] = 2 * rng.uniform() - 1;
  }
  const MatrixXd none = patchedForward(N, allUnits(N, false), X, Xp);
  const MatrixXd all = patchedForward(N, allUnits(N, true), X, Xp);
  std::vector<std::vector<bool>> one = allUnits(N, false);
  one[1][2] = true;
  const MatrixXd single = patchedForward(N, one, X, Xp);
  for (Eigen::Index s = 0; s < 10; ++s) {
    const VectorXd x = X.row(s).transpose(), xp = Xp.row(s).transpose();
    REQUIRE(maxAbs(none.row(s).transpose() - N.forward(x)) == 0.0);
    REQUIRE(maxAbs(all.row(s).transpose() - N.forward(xp)) == 0.0);
    // By hand: layer 1 of the run on x, with unit 2 replaced by its value on x'.
    auto hidden = [&](const VectorXd& v, int upto) {
      VectorXd h = v;
      for (int k = 0; k <= upto; ++k)
        h = (N.layers[k].W * h + N.layers[k].b).cwiseMax(0.0);
      return h;
    };
    VectorXd h2 = hidden(x, 1);
    h2[2] = hidden(xp, 1)[2];
    const VectorXd y = N.layers[2].W * h2 + N.layers[2].b;
    REQUIRE(maxAbs(single.row(s).transpose() - y) <= 1e-14);
  }
}

TEST_CASE("certifyMaxDeviation brackets the sampled deviation of random nets and circuits",
          "[faithfulness]") {
  Rng rng(2026);
  int converged = 0;
  const int nets = 4;
  for (int t = 0; t < nets; ++t) {
    const int n = std::vector<int>{5, 9, 14, 20}[static_cast<size_t>(t)];
    const int w1 = 8 + static_cast<int>(rng.uniform() * 9),
              w2 = 8 + static_cast<int>(rng.uniform() * 9);
    const AffineNet A = randomNet(rng, n, {w1, w2}, 3);
    const AffineNet B = ablate(rng, A, 0.1);
    const Box box = cube(n, -0.3, 0.3);
    FaithOptions opt;
    // The small ones converge in well under a second on an idle machine; their limit is far
    // above that so that a loaded machine cannot turn the outcome into a timeout (the test
    // asserts they converge). The larger ones may time out: only their bracket is checked.
    opt.timeoutSec = n <= 9 ? 600 : 10;
    opt.seed = static_cast<uint64_t>(t + 1);
    const DeviationBound r = certifyMaxDeviation(A, B, box, opt);
    INFO("net " << t << " n=" << n << " widths " << w1 << "," << w2 << ": certified " << r.certified
                << " worst " << r.worst << " queries " << r.queries << " note " << r.note << " ("
                << r.seconds << " s)");
    double sampled = 0;
    for (int s = 0; s < 20000; ++s) {
      const VectorXd x = uniformPoint(rng, box);
      sampled = std::max(sampled, maxAbs(A.forward(x) - B.forward(x)));
    }
    WARN("net " << t << " n=" << n << ": certified " << r.certified << " worst " << r.worst
                << " sampled " << sampled << " queries " << r.queries << " note " << r.note);
    REQUIRE(std::isfinite(r.certified));
    REQUIRE(r.certified >= sampled);
    REQUIRE(r.worst <= r.certified);
    REQUIRE(r.worst > 0);
    REQUIRE(r.worstX.size() == n);
    REQUIRE(maxAbs(A.forward(r.worstX) - B.forward(r.worstX)) == r.worst);
    for (int i = 0; i < n; ++i)
      REQUIRE((r.worstX[i] >= box.lo[i] && r.worstX[i] <= box.hi[i]));
    if (r.note.rfind("converged", 0) == 0) {
      ++converged;
      REQUIRE(r.certified - r.worst <= opt.relTol * r.certified + 1e-9);
    } else {
      REQUIRE(r.note.find("at delta=") != std::string::npos); // it says where it gave up
    }
    if (n <= 9) REQUIRE(r.note.rfind("converged", 0) == 0);
  }
  REQUIRE(converged >= 2);
}

TEST_CASE("identical networks: deviation 0 proved; mismatched shapes are rejected",
          "[faithfulness]") {
  Rng rng(8);
  const AffineNet A = randomNet(rng, 6, {10, 10}, 2);
  const DeviationBound r = certifyMaxDeviation(A, A, cube(6, -1, 1), FaithOptions{});
  INFO("certified " << r.certified << " note " << r.note);
  REQUIRE(r.certified <= 1e-12); // zero up to the bounds' rounding allowance
  REQUIRE(r.worst == 0.0);
  REQUIRE(r.queries == 0);
  // Merging collapses A - A to a net whose every output weight is zero.
  const AffineNet m = mergeIdenticalNeurons(differenceNetwork(A, A));
  REQUIRE(m.layers.back().W.isZero(0.0));

  const AffineNet other = randomNet(rng, 5, {4}, 2);
  REQUIRE_THROWS_AS(differenceNetwork(A, other), std::invalid_argument);
  REQUIRE_THROWS_AS(certifyMaxDeviation(A, A, cube(5, -1, 1), FaithOptions{}),
                    std::invalid_argument);
  REQUIRE_THROWS_AS(leakNetwork(A, {{true}}, A), std::invalid_argument);
  REQUIRE_THROWS_AS(verifyDecisionAgreement(A, A, cube(6, -1, 1), DecisionRule::Sign, {}),
                    std::invalid_argument);
  Box inverted = cube(6, -1, 1);
  inverted.lo[3] = 2;
  REQUIRE_THROWS_AS(certifyMaxDeviation(A, A, inverted, FaithOptions{}), std::invalid_argument);
}

TEST_CASE("planted weak path: 95% agreement on data, disagreement proved by the verifier",
          "[faithfulness]") {
  const Box box = cube(3, -1, 1);
  FaithOptions opt;
  opt.timeoutSec = 30;
  for (DecisionRule rule : {DecisionRule::Argmax, DecisionRule::Sign}) {
    const bool sign = rule == DecisionRule::Sign;
    const AffineNet N = sign ? plantedSignNet(true) : plantedNet(true);
    const AffineNet C = sign ? plantedSignNet(false) : plantedNet(false);
    auto decide = [&](const VectorXd& y) { return sign ? (y[0] > 0 ? 1 : 0) : argmaxFirst(y); };
    Rng rng(3);
    int agree = 0;
    for (int s = 0; s < 2000; ++s) {
      const VectorXd x = uniformPoint(rng, box);
      agree += decide(N.forward(x)) == decide(C.forward(x)) ? 1 : 0;
    }
    INFO("rule " << (sign ? "sign" : "argmax") << ", agreement " << agree << "/2000");
    REQUIRE(agree > 0.95 * 2000);
    REQUIRE(agree < 2000); // the path does matter somewhere

    const AgreementResult bad = verifyDecisionAgreement(N, C, box, rule, opt);
    INFO("verdict " << vnncompName(bad.verdict) << ": " << bad.reason);
    REQUIRE(bad.verdict == Verdict::Violated);
    REQUIRE(bad.x.size() == 3);
    REQUIRE(bad.x[1] > 0.9); // inside the path's region
    REQUIRE(bad.x[1] <= 1.0);
    REQUIRE(bad.yA == N.forward(bad.x));
    REQUIRE(bad.yB == C.forward(bad.x));
    REQUIRE(decide(N.forward(bad.x)) != decide(C.forward(bad.x)));

    const AgreementResult good = verifyDecisionAgreement(N, N, box, rule, opt);
    INFO("self: " << vnncompName(good.verdict) << ": " << good.reason);
    REQUIRE(good.verdict == Verdict::Holds);
    // A circuit that keeps the path but is a different network object (an extra dead unit).
    AffineNet Cw = N;
    Cw.layers[0].W.conservativeResize(4, 3);
    Cw.layers[0].W.row(3) = Eigen::RowVector3d(0.5, -0.25, 0.125);
    Cw.layers[0].b.conservativeResize(4);
    Cw.layers[0].b[3] = 0.1;
    Cw.layers[1].W.conservativeResize(Eigen::NoChange, 4);
    Cw.layers[1].W.col(3).setZero();
    REQUIRE(verifyDecisionAgreement(N, Cw, box, rule, opt).verdict == Verdict::Holds);
    // A "compiled" circuit of another depth: the same function with an identity ReLU layer
    // inserted after the hidden one. Agrees with N, and, without the path, still disagrees.
    auto deeper = [](AffineNet net) {
      const Eigen::Index w = net.layers[0].W.rows();
      net.layers.insert(net.layers.begin() + 1,
                        AffineLayer{MatrixXd::Identity(w, w), VectorXd::Zero(w), true});
      return net;
    };
    REQUIRE(verifyDecisionAgreement(N, deeper(N), box, rule, opt).verdict == Verdict::Holds);
    const AgreementResult deep = verifyDecisionAgreement(deeper(C), N, box, rule, opt);
    REQUIRE(deep.verdict == Verdict::Violated);
    REQUIRE(deep.x[1] > 0.9);
    REQUIRE(decide(deeper(C).forward(deep.x)) != decide(N.forward(deep.x)));
  }
}

TEST_CASE("no time for queries: the bound still holds and says why it stopped", "[faithfulness]") {
  Rng rng(4);
  const AffineNet A = randomNet(rng, 6, {12, 12}, 2);
  const AffineNet B = ablate(rng, A, 0.2);
  const Box box = cube(6, -1, 1);
  FaithOptions opt;
  opt.timeoutSec = 0;
  const DeviationBound r = certifyMaxDeviation(A, B, box, opt);
  INFO("certified " << r.certified << " worst " << r.worst << " note " << r.note);
  REQUIRE(r.queries == 0);
  REQUIRE(r.note == "timeout before delta search");
  REQUIRE(std::isfinite(r.certified));
  REQUIRE(r.worst > 0); // the best uniform sample is always measured
  REQUIRE(maxAbs(A.forward(r.worstX) - B.forward(r.worstX)) == r.worst);
  double sampled = 0;
  for (int s = 0; s < 20000; ++s) {
    const VectorXd x = uniformPoint(rng, box);
    sampled = std::max(sampled, maxAbs(A.forward(x) - B.forward(x)));
  }
  REQUIRE(r.certified >= sampled);
  opt.maxQueries = 0;
  opt.timeoutSec = 10;
  REQUIRE(certifyMaxDeviation(A, B, box, opt).note.rfind("query limit", 0) == 0);
}

TEST_CASE("the leak: all units patched and C = N is exactly zero; none patched is N(x) - C(x')",
          "[faithfulness]") {
  Rng rng(77);
  const int n = 4;
  const AffineNet N = randomNet(rng, n, {8, 8}, 2);
  const Box box = cube(n, -0.5, 0.5);
  FaithOptions opt;
  opt.timeoutSec = 30;

  const AffineNet Cab = ablate(rng, N, 0.15);
  const AffineNet allLeak = leakNetwork(N, allUnits(N, true), Cab);
  const AffineNet noneLeak = leakNetwork(N, allUnits(N, false), Cab);
  for (int t = 0; t < 300; ++t) {
    const VectorXd x = uniformPoint(rng, box), xp = uniformPoint(rng, box);
    VectorXd z(2 * n);
    z << x, xp;
    const VectorXd wantAll = N.forward(xp) - Cab.forward(xp);
    const VectorXd wantNone = N.forward(x) - Cab.forward(xp);
    REQUIRE(maxAbs(allLeak.forward(z) - wantAll) <= 1e-12);
    REQUIRE(maxAbs(noneLeak.forward(z) - wantNone) <= 1e-12);
  }

  const DeviationBound zero = certifyMaxLeak(N, allUnits(N, true), N, box, opt);
  INFO("C = N, all units: certified " << zero.certified << " note " << zero.note);
  REQUIRE(zero.certified <= 1e-12);
  REQUIRE(zero.worst == 0.0);

  // Random units, ablated circuit: the certified leak covers the leak sampled on pairs.
  std::vector<std::vector<bool>> S = allUnits(N, false);
  for (auto& layer : S)
    for (size_t i = 0; i < layer.size(); ++i)
      layer[i] = rng.uniform() < 0.6;
  for (const auto& units : {S, allUnits(N, false)}) {
    const DeviationBound r = certifyMaxLeak(N, units, Cab, box, opt);
    double sampled = 0;
    for (int s = 0; s < 20000; ++s) {
      const VectorXd x = uniformPoint(rng, box), xp = uniformPoint(rng, box);
      sampled = std::max(sampled, maxAbs(patched(N, units, x, xp) - Cab.forward(xp)));
    }
    INFO("certified " << r.certified << " worst " << r.worst << " sampled " << sampled << " note "
                      << r.note);
    WARN("leak: certified " << r.certified << " worst " << r.worst << " sampled " << sampled
                            << " note " << r.note << " " << r.seconds << " s");
    REQUIRE(r.certified >= sampled);
    REQUIRE(r.worst <= r.certified);
    REQUIRE(r.worstX.size() == 2 * n);
    REQUIRE(maxAbs(patched(N, units, r.worstX.head(n), r.worstX.tail(n)) -
                   Cab.forward(r.worstX.tail(n))) == r.worst);
  }
}

TEST_CASE("leak decision: the planted path leaks through the unpatched unit", "[faithfulness]") {
  const Box box = cube(3, -1, 1);
  FaithOptions opt;
  opt.timeoutSec = 30;
  const AffineNet N = plantedNet(true), C = plantedNet(false);
  // S = the main path {h0, h1}; h2 still reads x, so for x1 > 0.9 it flips N_patch.
  const std::vector<std::vector<bool>> S = {{true, true, false}};
  const AgreementResult leak = verifyLeakDecision(N, S, C, box, DecisionRule::Argmax, opt);
  INFO(vnncompName(leak.verdict) << ": " << leak.reason);
  REQUIRE(leak.verdict == Verdict::Violated);
  REQUIRE(leak.x.size() == 6);
  REQUIRE(leak.x[1] > 0.9); // x (the unpatched run) is in the path's region
  const VectorXd yP = patched(N, S, leak.x.head(3), leak.x.tail(3));
  REQUIRE(leak.yA == yP);
  REQUIRE(leak.yB == C.forward(leak.x.tail(3)));
  REQUIRE(argmaxFirst(yP) != argmaxFirst(C.forward(leak.x.tail(3))));
  // All units patched and the circuit is the network: no leak.
  REQUIRE(verifyLeakDecision(N, {{true, true, true}}, N, box, DecisionRule::Argmax, opt).verdict ==
          Verdict::Holds);
}

TEST_CASE("resample ablation as a network on [x; x']: equal to circuitForward; bounds bracket it",
          "[faithfulness]") {
  Rng rng(31);
  const int n = 4;
  const AffineNet N = randomNet(rng, n, {7, 6}, 3);
  neural::Circuit c = neural::fullCircuit(N, neural::Ablation::Resample);
  for (auto& m : c.keep)
    for (Eigen::Index i = 0; i < m.size(); ++i)
      m.data()[i] = rng.uniform() < 0.6;
  const AffineNet R = resampleCircuitNetwork(N, c);
  const AffineNet N2 = onFirstHalf(N);
  REQUIRE(R.inputSize == 2 * n);
  const Box box = cube(n, -1, 1);
  const Box box2 = pairBox(box);
  REQUIRE(box2.lo.size() == 2 * n);
  // Against the circuit's own forward pass with its patch rows, and N ignoring x'.
  MatrixXd X(200, n), Xp(200, n);
  for (int r = 0; r < 200; ++r) {
    X.row(r) = uniformPoint(rng, box).transpose();
    Xp.row(r) = uniformPoint(rng, box).transpose();
  }
  const MatrixXd Y = neural::circuitForward(N, c, neural::ActivationStats{}, X, Xp);
  double sampled = 0;
  for (int r = 0; r < 200; ++r) {
    VectorXd z(2 * n);
    z << X.row(r).transpose(), Xp.row(r).transpose();
    CHECK(maxAbs(R.forward(z) - Y.row(r).transpose()) <= 1e-12);
    CHECK(maxAbs(N2.forward(z) - N.forward(X.row(r).transpose())) == 0.0);
    sampled = std::max(sampled, maxAbs(R.forward(z) - N2.forward(z)));
  }
  // All edges kept: the circuit is N whatever x' is; none kept: N on x'.
  neural::Circuit all = neural::fullCircuit(N, neural::Ablation::Resample);
  neural::Circuit none = neural::emptyCircuit(N, neural::Ablation::Resample);
  VectorXd z(2 * n);
  z << uniformPoint(rng, box), uniformPoint(rng, box);
  CHECK(maxAbs(resampleCircuitNetwork(N, all).forward(z) - N.forward(z.head(n))) <= 1e-12);
  CHECK(maxAbs(resampleCircuitNetwork(N, none).forward(z) - N.forward(z.tail(n))) <= 1e-12);
  // The certified deviation over box x box is a bound on what sampling saw, and its worst point
  // replays.
  FaithOptions opt;
  opt.timeoutSec = 600;
  const DeviationBound db = certifyMaxDeviation(N2, R, box2, opt);
  CHECK(db.certified + 1e-9 >= sampled);
  REQUIRE(db.worstX.size() == 2 * n);
  CHECK(maxAbs(R.forward(db.worstX) - N2.forward(db.worstX)) == db.worst);
  // A circuit that does not fit N is refused.
  neural::Circuit bad = c;
  bad.keep.pop_back();
  CHECK_THROWS_AS(resampleCircuitNetwork(N, bad), std::invalid_argument);
}

TEST_CASE("decision agreement is decided in exact arithmetic, not float64", "[faithfulness]") {
  // A's outputs are [x, x + 1e-17]: over the reals A decides 1 everywhere, while float64 rounds
  // x + 1e-17 to x on [0.5, 1] and the tie goes to 0. B decides 0 everywhere. The networks
  // disagree over the reals at every point; float64 alone would call them equal.
  AffineNet A, B;
  A.inputSize = B.inputSize = 1;
  A.layers.push_back({MatrixXd::Ones(2, 1), Eigen::Vector2d(0, 1e-17), false});
  B.layers.push_back({MatrixXd::Ones(2, 1), Eigen::Vector2d(0, -1), false});
  FaithOptions opt;
  opt.timeoutSec = 600;
  opt.decisionMargin = 0;
  const AgreementResult r =
      verifyDecisionAgreement(A, B, cube(1, 0.5, 1.0), DecisionRule::Argmax, opt);
  INFO(r.reason);
  REQUIRE(r.verdict == Verdict::Violated);
  CHECK(r.reason.find("exact arithmetic") != std::string::npos);
  CHECK(r.reason.find("floating-point note") != std::string::npos);
}
