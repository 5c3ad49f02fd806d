// Faithfulness of a circuit to its network as verifier queries (see faithfulness.h). The
// constructions below are exact in real arithmetic on the float64 weights (block placement,
// negation, merges whose column sums TwoSum shows exact) except the output bias difference,
// whose rounding error is carried to the certified bound or to the right-hand sides.
#include "verifier/faithfulness.h"

#include "verifier/problem.h"

#include <boost/multiprecision/cpp_int.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <stdexcept>
#include <utility>

namespace chassis::verifier {

using Clock = std::chrono::steady_clock;
using Eigen::MatrixXd;
using Eigen::VectorXd;
using neural::AffineLayer;
using neural::AffineNet;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

[[noreturn]] void fail(const std::string& msg) {
  throw std::invalid_argument("faithfulness: " + msg);
}

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

double seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Every layer's W reads the previous layer's values and b has one entry per row.
void checkNet(const AffineNet& net, const std::string& name) {
  if (net.inputSize <= 0) fail(name + " has no inputs");
  Eigen::Index prev = net.inputSize;
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const AffineLayer& L = net.layers[k];
    if (L.W.cols() != prev || L.b.size() != L.W.rows())
      fail(name + " layer " + std::to_string(k) + ": W is " + std::to_string(L.W.rows()) + "x" +
           std::to_string(L.W.cols()) + " and b has " + std::to_string(L.b.size()) +
           " entries, but the layer below has " + std::to_string(prev) + " values");
    if (!L.W.allFinite() || !L.b.allFinite())
      fail(name + " layer " + std::to_string(k) + " has a non-finite weight");
    prev = L.W.rows();
  }
}

void checkSameShape(const AffineNet& A, const std::string& a, const AffineNet& B,
                    const std::string& b) {
  checkNet(A, a);
  checkNet(B, b);
  if (A.inputSize != B.inputSize)
    fail(a + " has " + std::to_string(A.inputSize) + " inputs but " + b + " has " +
         std::to_string(B.inputSize));
  if (A.outputSize() != B.outputSize())
    fail(a + " has " + std::to_string(A.outputSize()) + " outputs but " + b + " has " +
         std::to_string(B.outputSize()));
}

void checkBox(const Box& box, int n) {
  if (box.lo.size() != n || box.hi.size() != n)
    fail("the box has " + std::to_string(box.lo.size()) + "/" + std::to_string(box.hi.size()) +
         " bounds for a network with " + std::to_string(n) + " inputs");
  for (int i = 0; i < n; ++i)
    if (!std::isfinite(box.lo[i]) || !std::isfinite(box.hi[i]) || box.lo[i] > box.hi[i])
      fail("the box is empty or unbounded in input " + std::to_string(i) + ": [" + num(box.lo[i]) +
           ", " + num(box.hi[i]) + "]");
}

void checkUnits(const AffineNet& N, const std::vector<std::vector<bool>>& S) {
  const size_t hidden = N.layers.empty() ? 0 : N.layers.size() - 1;
  if (S.size() != hidden)
    fail("S has " + std::to_string(S.size()) + " layers but the network has " +
         std::to_string(hidden) + " hidden layers");
  for (size_t k = 0; k < hidden; ++k)
    if (static_cast<Eigen::Index>(S[k].size()) != N.layers[k].W.rows())
      fail("S marks " + std::to_string(S[k].size()) + " units of hidden layer " +
           std::to_string(k) + ", which has " + std::to_string(N.layers[k].W.rows()));
}

MatrixXd hcat(const MatrixXd& a, const MatrixXd& b) {
  MatrixXd m(a.rows(), a.cols() + b.cols());
  m << a, b;
  return m;
}
MatrixXd vcat(const MatrixXd& a, const MatrixXd& b) {
  MatrixXd m(a.rows() + b.rows(), a.cols());
  m << a, b;
  return m;
}
VectorXd vcat(const VectorXd& a, const VectorXd& b) {
  VectorXd v(a.size() + b.size());
  v << a, b;
  return v;
}

/// a + b in float64 and whether that sum is exact (TwoSum's error term is zero).
bool exactSum(double a, double b, double& s) {
  s = a + b;
  double bb = s - a;
  double err = (a - (s - bb)) + (b - bb);
  return err == 0.0 && std::isfinite(s);
}

/// A net in normal form: at least one layer, every layer but the last with ReLU, the last
/// without. patched[k][i]: unit i of hidden layer k is one of the leak's units S.
struct NormalNet {
  int inputSize = 0;
  std::vector<AffineLayer> layers;
  std::vector<std::vector<bool>> patched;
  int hidden() const { return static_cast<int>(layers.size()) - 1; }
};

NormalNet normalForm(const AffineNet& net, const std::vector<std::vector<bool>>* S) {
  NormalNet out;
  out.inputSize = net.inputSize;
  const int n = net.inputSize;
  if (net.layers.empty()) {
    out.layers.push_back({MatrixXd::Identity(n, n), VectorXd::Zero(n), false});
    return out;
  }
  const int L = static_cast<int>(net.layers.size());
  bool pairedBelow = false; // the layer below was expanded into [relu(v); relu(-v)]
  for (int k = 0; k < L; ++k) {
    const AffineLayer& src = net.layers[k];
    const bool last = k == L - 1;
    AffineLayer l;
    l.W = pairedBelow ? hcat(src.W, -src.W) : src.W;
    l.b = src.b;
    pairedBelow = false;
    if (last && !src.relu) {
      l.relu = false;
      out.layers.push_back(std::move(l));
      break;
    }
    std::vector<bool> p =
        (S && !last) ? (*S)[k] : std::vector<bool>(static_cast<size_t>(src.W.rows()), false);
    if (!src.relu) { // a hidden layer without ReLU: v -> [relu(v); relu(-v)], read as [W, -W]
      MatrixXd W = l.W;
      l.W = vcat(W, MatrixXd(-W));
      l.b = vcat(src.b, VectorXd(-src.b));
      std::vector<bool> twice = p;
      twice.insert(twice.end(), p.begin(), p.end());
      p = std::move(twice);
      pairedBelow = true;
    }
    l.relu = true;
    const Eigen::Index rows = l.W.rows();
    out.layers.push_back(std::move(l));
    out.patched.push_back(std::move(p));
    if (last) // a ReLU on the output: an identity linear layer after it
      out.layers.push_back({MatrixXd::Identity(rows, rows), VectorXd::Zero(rows), false});
  }
  return out;
}

/// Pads a normal-form net to H hidden layers without changing its function (real arithmetic).
void pad(NormalNet& nn, int H) {
  if (nn.hidden() >= H) return;
  if (nn.hidden() == 0) { // y = W x + b  ->  [relu(y); relu(-y)] read back by [I, -I]
    const AffineLayer o = nn.layers[0];
    const Eigen::Index m = o.W.rows();
    AffineLayer hid{vcat(o.W, MatrixXd(-o.W)), vcat(o.b, VectorXd(-o.b)), true};
    AffineLayer out{hcat(MatrixXd::Identity(m, m), MatrixXd(-MatrixXd::Identity(m, m))),
                    VectorXd::Zero(m), false};
    nn.layers = {hid, out};
    nn.patched = {std::vector<bool>(static_cast<size_t>(2 * m), false)};
  }
  while (nn.hidden() < H) { // relu(h) = h for the non-negative values of a ReLU layer
    const Eigen::Index w = nn.layers[nn.layers.size() - 2].W.rows();
    nn.layers.insert(nn.layers.end() - 1,
                     AffineLayer{MatrixXd::Identity(w, w), VectorXd::Zero(w), true});
    nn.patched.push_back(std::vector<bool>(static_cast<size_t>(w), false));
  }
}

/// What the combined network outputs from its two output streams P and Q.
enum class Head { Difference, Product, ProductAndDifference };

/// The output layer reading P's last hidden layer at column offP and Q's at offQ (of `cols`
/// columns); err receives the rounding error of the bias differences (exact value of
/// b_P - b_Q minus its float64 result), zero where there are none.
AffineLayer headLayer(Head head, const AffineLayer& P, Eigen::Index offP, const AffineLayer& Q,
                      Eigen::Index offQ, Eigen::Index cols, VectorXd* err) {
  const Eigen::Index m = P.W.rows();
  const Eigen::Index blocks = head == Head::Difference ? 1 : head == Head::Product ? 2 : 3;
  AffineLayer o;
  o.W = MatrixXd::Zero(blocks * m, cols);
  o.b = VectorXd::Zero(blocks * m);
  o.relu = false;
  VectorXd e = VectorXd::Zero(m);
  auto putDifference = [&](Eigen::Index r0) {
    o.W.block(r0, offP, m, P.W.cols()) = P.W;
    o.W.block(r0, offQ, m, Q.W.cols()) = -Q.W;
    for (Eigen::Index i = 0; i < m; ++i) {
      double s = P.b[i] - Q.b[i];
      double bb = s - P.b[i];
      e[i] = (P.b[i] - (s - bb)) + (-Q.b[i] - bb);
      o.b[r0 + i] = s;
    }
  };
  if (head == Head::Difference) {
    putDifference(0);
  } else {
    o.W.block(0, offP, m, P.W.cols()) = P.W;
    o.W.block(m, offQ, m, Q.W.cols()) = Q.W;
    o.b.head(m) = P.b;
    o.b.segment(m, m) = Q.b;
    if (head == Head::ProductAndDifference) putDifference(2 * m);
  }
  if (err) *err = e;
  return o;
}

/// A and B side by side on a shared input (differenceNetwork / productNetwork).
AffineNet sideBySide(const AffineNet& A, const AffineNet& B, Head head, VectorXd* err) {
  checkSameShape(A, "network A", B, "network B");
  NormalNet a = normalForm(A, nullptr), b = normalForm(B, nullptr);
  const int H = std::max({1, a.hidden(), b.hidden()}); // >= 1: the head reads disjoint blocks
  pad(a, H);
  pad(b, H);
  AffineNet net;
  net.inputSize = A.inputSize;
  for (int k = 0; k < H; ++k) {
    const AffineLayer& La = a.layers[k];
    const AffineLayer& Lb = b.layers[k];
    AffineLayer l;
    if (k == 0) {
      l.W = vcat(La.W, Lb.W);
    } else {
      l.W = MatrixXd::Zero(La.W.rows() + Lb.W.rows(), La.W.cols() + Lb.W.cols());
      l.W.topLeftCorner(La.W.rows(), La.W.cols()) = La.W;
      l.W.bottomRightCorner(Lb.W.rows(), Lb.W.cols()) = Lb.W;
    }
    l.b = vcat(La.b, Lb.b);
    l.relu = true;
    net.layers.push_back(std::move(l));
  }
  const Eigen::Index wa = a.layers[H - 1].W.rows(), wb = b.layers[H - 1].W.rows();
  net.layers.push_back(headLayer(head, a.layers[H], 0, b.layers[H], wa, wa + wb, err));
  return net;
}

/// The leak's three streams on [x; x'] (leakNetwork), with the given head on P and C.
AffineNet leakStreams(const AffineNet& N, const std::vector<std::vector<bool>>& S,
                      const AffineNet& C, Head head, VectorXd* err) {
  checkSameShape(N, "network N", C, "circuit C");
  checkUnits(N, S);
  NormalNet nn = normalForm(N, &S), nc = normalForm(C, nullptr);
  const int H = std::max({1, nn.hidden(), nc.hidden()});
  pad(nn, H);
  pad(nc, H);
  const Eigen::Index n = N.inputSize;
  // Stream A (N on x') is needed only below the last hidden layer that has a patched unit.
  int lastPatched = -1;
  for (int k = 0; k < H; ++k)
    if (std::find(nn.patched[k].begin(), nn.patched[k].end(), true) != nn.patched[k].end())
      lastPatched = k;
  AffineNet net;
  net.inputSize = static_cast<int>(2 * n);
  Eigen::Index offA = n, offP = 0, offC = n, cols = 2 * n; // layer 0 reads [x; x']
  for (int k = 0; k < H; ++k) {
    const AffineLayer& Ln = nn.layers[k];
    const AffineLayer& Lc = nc.layers[k];
    const Eigen::Index a = k < lastPatched ? Ln.W.rows() : 0, p = Ln.W.rows(), c = Lc.W.rows();
    AffineLayer l;
    l.W = MatrixXd::Zero(a + p + c, cols);
    l.b = VectorXd(a + p + c);
    l.relu = true;
    if (a > 0) {
      l.W.block(0, offA, a, Ln.W.cols()) = Ln.W;
      l.b.head(a) = Ln.b;
    }
    for (Eigen::Index i = 0; i < p; ++i) {
      const Eigen::Index src = nn.patched[k][static_cast<size_t>(i)] ? offA : offP;
      l.W.block(a + i, src, 1, Ln.W.cols()) = Ln.W.row(i);
      l.b[a + i] = Ln.b[i];
    }
    l.W.block(a + p, offC, c, Lc.W.cols()) = Lc.W;
    l.b.tail(c) = Lc.b;
    net.layers.push_back(std::move(l));
    offA = 0;
    offP = a;
    offC = a + p;
    cols = a + p + c;
  }
  net.layers.push_back(headLayer(head, nn.layers[H], offP, nc.layers[H], offC, cols, err));
  return net;
}

/// Keeps the rows `keep` of layer k and the same columns of layer k + 1.
void keepNeurons(AffineNet& net, size_t k, const std::vector<char>& keep) {
  std::vector<Eigen::Index> idx;
  for (size_t i = 0; i < keep.size(); ++i)
    if (keep[i]) idx.push_back(static_cast<Eigen::Index>(i));
  if (idx.size() == keep.size()) return;
  AffineLayer& cur = net.layers[k];
  AffineLayer& nxt = net.layers[k + 1];
  MatrixXd W(static_cast<Eigen::Index>(idx.size()), cur.W.cols());
  VectorXd b(static_cast<Eigen::Index>(idx.size()));
  MatrixXd Wn(nxt.W.rows(), static_cast<Eigen::Index>(idx.size()));
  for (size_t j = 0; j < idx.size(); ++j) {
    const auto r = static_cast<Eigen::Index>(j);
    W.row(r) = cur.W.row(idx[j]);
    b[r] = cur.b[idx[j]];
    Wn.col(r) = nxt.W.col(idx[j]);
  }
  cur.W = std::move(W);
  cur.b = std::move(b);
  nxt.W = std::move(Wn);
}

/// Index of the largest entry, ties to the lowest index.
Eigen::Index argmaxFirst(const VectorXd& y) {
  Eigen::Index best = 0;
  for (Eigen::Index i = 1; i < y.size(); ++i)
    if (y[i] > y[best]) best = i;
  return best;
}

Eigen::Index decision(const VectorXd& y, DecisionRule rule) {
  return rule == DecisionRule::Sign ? (y[0] > 0 ? 1 : 0) : argmaxFirst(y);
}

/// Exact forward passes at a float64 point: every double is a dyadic rational, so the network's
/// real value there is computed without rounding (cpp_rational), as the verdict rule needs
/// (spec/LANGUAGE.md §8: a disagreement must hold over the reals, not only in float64).
using Rational = boost::multiprecision::cpp_rational;
using RVec = std::vector<Rational>;

RVec exactLayer(const AffineLayer& L, const RVec& a) {
  RVec z(static_cast<size_t>(L.W.rows()));
  for (Eigen::Index i = 0; i < L.W.rows(); ++i) {
    Rational v = L.b[i];
    for (Eigen::Index j = 0; j < L.W.cols(); ++j)
      if (L.W(i, j) != 0) v += Rational(L.W(i, j)) * a[static_cast<size_t>(j)];
    z[static_cast<size_t>(i)] = L.relu && v < 0 ? Rational(0) : v;
  }
  return z;
}

RVec exactInput(const VectorXd& x) {
  RVec a;
  for (Eigen::Index i = 0; i < x.size(); ++i)
    a.emplace_back(x[i]);
  return a;
}

RVec exactForward(const AffineNet& net, const VectorXd& x) {
  RVec a = exactInput(x);
  for (const AffineLayer& L : net.layers)
    a = exactLayer(L, a);
  return a;
}

/// N_patch(x; S <- x') exactly (see patchedForward).
RVec exactPatchedForward(const AffineNet& N, const std::vector<std::vector<bool>>& S,
                         const VectorXd& x, const VectorXd& xp) {
  RVec p = exactInput(x), a = exactInput(xp);
  for (size_t k = 0; k < N.layers.size(); ++k) {
    RVec zp = exactLayer(N.layers[k], p);
    if (k + 1 < N.layers.size()) {
      RVec za = exactLayer(N.layers[k], a);
      for (size_t i = 0; i < zp.size(); ++i)
        if (S[k][i]) zp[i] = za[i];
      a = std::move(za);
    }
    p = std::move(zp);
  }
  return p;
}

Eigen::Index exactDecision(const RVec& y, DecisionRule rule) {
  if (rule == DecisionRule::Sign) return y[0] > 0 ? 1 : 0;
  size_t best = 0;
  for (size_t i = 1; i < y.size(); ++i)
    if (y[i] > y[best]) best = i;
  return static_cast<Eigen::Index>(best);
}

/// d/dx of c . net(x) (a subgradient: ReLU' taken as 0 at 0).
VectorXd inputGradient(const AffineNet& net, const VectorXd& x, const VectorXd& c) {
  std::vector<VectorXd> pre;
  VectorXd y = x;
  for (const AffineLayer& L : net.layers) {
    VectorXd z = L.W * y + L.b;
    pre.push_back(z);
    y = L.relu ? VectorXd(z.cwiseMax(0.0)) : z;
  }
  VectorXd g = c;
  for (size_t k = net.layers.size(); k-- > 0;) {
    if (net.layers[k].relu) g = g.cwiseProduct((pre[k].array() > 0.0).cast<double>().matrix());
    g = net.layers[k].W.transpose() * g;
  }
  return g;
}

using DeviationReplay = std::function<double(const VectorXd&)>;

void observe(DeviationBound& r, const DeviationReplay& replay, const VectorXd& x) {
  const double dev = replay(x);
  if (r.worstX.size() == 0 || dev > r.worst) {
    r.worst = dev;
    r.worstX = x;
  }
}

/// Lower bound on max |D| by search: uniform samples (and the centre), then for every output i
/// and sign s, signed-gradient ascent of s D_i from the samples best for it; every candidate is
/// measured by `replay` (the original networks), which is what `worst` records.
void searchWorst(const AffineNet& D, const Box& box, const DeviationReplay& replay, uint64_t seed,
                 Clock::time_point deadline, DeviationBound& r) {
  const Eigen::Index n = box.lo.size();
  const VectorXd width = box.hi - box.lo;
  const int samples = 2048, starts = 16, iterations = 80;
  SplitMix rng(seed * 0x9e3779b97f4a7c15ULL + 7);
  MatrixXd X(n, samples + 1);
  X.col(0) = 0.5 * (box.lo + box.hi);
  for (int s = 1; s <= samples; ++s)
    for (Eigen::Index i = 0; i < n; ++i)
      X(i, s) = std::min(box.hi[i], box.lo[i] + rng.uniform() * width[i]);
  const MatrixXd Y = D.forwardBatch(X);
  // Ascent of s * D_i from x: signed gradient steps shrinking from 5% to 0.05% of the width.
  auto ascend = [&](VectorXd x, Eigen::Index i, double sign) {
    VectorXd c = VectorXd::Zero(Y.rows());
    c[i] = sign;
    double best = sign * D.forward(x)[i];
    VectorXd bestX = x;
    for (int it = 0; it < iterations; ++it) {
      const double step = 0.05 * std::pow(0.01, static_cast<double>(it) / (iterations - 1));
      const VectorXd g = inputGradient(D, x, c);
      for (Eigen::Index j = 0; j < n; ++j) {
        const double dir = g[j] > 0 ? 1.0 : g[j] < 0 ? -1.0 : 0.0;
        x[j] = std::clamp(x[j] + step * width[j] * dir, box.lo[j], box.hi[j]);
      }
      const double v = sign * D.forward(x)[i];
      if (v > best) {
        best = v;
        bestX = x;
      }
    }
    observe(r, replay, bestX);
  };
  // The samples largest in |D|, each on its largest output ...
  std::vector<std::pair<double, int>> score;
  for (int s = 0; s <= samples; ++s)
    score.push_back({-Y.col(s).cwiseAbs().maxCoeff(), s});
  std::sort(score.begin(), score.end());
  for (int t = 0; t < starts; ++t) {
    const int s = score[static_cast<size_t>(t)].second;
    observe(r, replay, X.col(s)); // the best sample is measured whatever the deadline
    if (Clock::now() >= deadline) return;
    Eigen::Index i = 0;
    Y.col(s).cwiseAbs().maxCoeff(&i);
    ascend(X.col(s), i, Y(i, s) >= 0 ? 1.0 : -1.0);
  }
  // ... then every objective s * D_i from the samples best for it.
  for (Eigen::Index i = 0; i < Y.rows(); ++i)
    for (double sign : {1.0, -1.0}) {
      score.clear();
      for (int s = 0; s <= samples; ++s)
        score.push_back({-sign * Y(i, s), s});
      std::partial_sort(score.begin(), score.begin() + starts / 2, score.end());
      for (int t = 0; t < starts / 2; ++t) {
        if (Clock::now() >= deadline) return;
        ascend(X.col(score[static_cast<size_t>(t)].second), i, sign);
      }
    }
}

/// The verifier's options for one query on an n-input composite network. Input splitting up to
/// 24 inputs: the difference and leak networks are twice as wide as their parts, with many
/// unstable ReLUs whose relaxations do not cancel, and ReLU splitting with Z3 leaves bogs down on
/// them (measured on random 14- and 20-input nets with 2x12 ReLUs and a 10%-ablated circuit:
/// input splitting proves delta = 1.2 / 1.5 in 0.2 s / 3 s, ReLU splitting times out at 60 s).
NetVerifyOptions queryOptions(Eigen::Index n, double timeoutSec, const FaithOptions& opt,
                              uint64_t seedOffset) {
  NetVerifyOptions vo;
  vo.timeoutSec = std::max(0.0, timeoutSec);
  vo.threads = opt.threads;
  vo.seed = opt.seed + seedOffset;
  vo.inputSplitMaxDim =
      std::max(vo.inputSplitMaxDim, static_cast<int>(std::min<Eigen::Index>(n, 24)));
  return vo;
}

/// u + allowance rounded up (u when there is no allowance).
double plusAllowance(double u, double allowance) {
  return allowance > 0 ? std::nextafter(u + allowance, kInf) : u;
}

/// certifyMaxDeviation / certifyMaxLeak on the difference network `raw`, whose real function
/// differs from the true difference by at most `allowance` in every output.
DeviationBound bracketMaxDeviation(const AffineNet& raw, double allowance, const Box& box,
                                   const FaithOptions& opt, const DeviationReplay& replay) {
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(std::max(0.0, opt.timeoutSec)));
  DeviationBound r;
  const AffineNet D = mergeIdenticalNeurons(raw);
  const int m = D.outputSize();
  const Eigen::Index n = box.lo.size();

  // 1. A proved bound: back-substitution on the rows [I; -I], and the interval bounds.
  NetBounds nb = symbolicBounds(D, box);
  MatrixXd Cm(2 * m, m);
  Cm << MatrixXd::Identity(m, m), -MatrixXd::Identity(m, m);
  const LinearLower ll = outputLowerBound(D, box, nb, Cm);
  double upperD = 0; // proved: |D_i(x)| <= upperD on the box
  for (int i = 0; i < m; ++i) {
    double u = std::max(-ll.lower[i], -ll.lower[m + i]);
    const VectorXd& lo = nb.lo.back();
    const VectorXd& hi = nb.hi.back();
    u = std::min(u, std::max(std::abs(lo[i]), std::abs(hi[i])));
    upperD = std::max(upperD, u);
  }
  if (!std::isfinite(upperD)) upperD = kInf;

  // 2. An observed deviation (a fifth of the budget at most).
  searchWorst(D, box, replay, opt.seed, t0 + (deadline - t0) / 5, r);
  r.certified = std::max(plusAllowance(upperD, allowance), r.worst);
  r.note = "bounds";

  // 3. Bisection on delta with the verifier.
  double lower = r.worst; // bisection's left end: worst, or a delta the verifier gave up on
  int answerless = 0;
  std::string gaveUp; // what the last answerless query said
  while (true) {
    const double upper = r.certified;
    if (upper - r.worst <= opt.relTol * upper + 1e-9) {
      r.note = r.queries == 0 ? "converged on bounds alone" : "converged";
      break;
    }
    if (upper - lower <= opt.relTol * upper + 1e-9) { // the rest lies where the verifier gave up
      r.note = gaveUp;
      break;
    }
    if (r.queries >= opt.maxQueries) {
      r.note = "query limit (" + std::to_string(opt.maxQueries) + ") reached";
      break;
    }
    const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    if (left <= 0.01 || !std::isfinite(upperD)) {
      r.note = std::isfinite(upperD) ? "timeout before delta search" : "no finite bound";
      break;
    }
    const double delta = lower + 0.5 * (upperD - lower);
    if (!(delta > lower && delta < upperD)) {
      r.note = "bracket below rounding resolution";
      break;
    }
    // Queries still wanted: halvings of the gap down to the tolerance.
    const double want = std::log2((upper - lower) / (opt.relTol * upper + 1e-9));
    const int steps = answerless > 0 ? 1 // after an answerless query: all that is left
                                     : std::clamp(static_cast<int>(std::ceil(want)), 1,
                                                  opt.maxQueries - r.queries);
    NetworkQuery query;
    query.numInputs = static_cast<int>(n);
    query.numOutputs = m;
    for (int i = 0; i < m; ++i)
      for (double s : {1.0, -1.0}) { // s D_i >= delta  <=>  -s D_i <= -delta
        CaseSpec c;
        c.box = box;
        c.C = Eigen::MatrixXd::Zero(1, m);
        c.C(0, i) = -s;
        c.d = Eigen::VectorXd::Constant(1, -delta);
        query.cases.push_back(std::move(c));
      }
    Expected<VerifyResult> res = verifyNetwork(
        D, query, queryOptions(n, left / steps, opt, static_cast<uint64_t>(r.queries)));
    ++r.queries;
    if (!res) {
      r.note = "verifier error at delta=" + num(delta) + ": " + res.error().str();
      break;
    }
    if (res->verdict == Verdict::Holds) {
      upperD = delta;
      r.certified = std::max(plusAllowance(delta, allowance), r.worst);
    } else if (res->verdict == Verdict::Violated) {
      observe(r, replay, res->x);
      r.certified = std::max(r.certified, r.worst);
      if (!(r.worst > lower)) {
        r.note = "sat at delta=" + num(delta) + " but the replayed deviation did not grow";
        break;
      }
      lower = std::max(lower, r.worst);
    } else {
      // No answer: the next query asks an easier question (a delta nearer the proved bound)
      // with what is left of the budget; two answerless queries in a row end the search.
      gaveUp = std::string(vnncompName(res->verdict)) + " at delta=" + num(delta) +
               (res->reason.empty() ? "" : " (" + res->reason + ")");
      r.note = gaveUp;
      if (++answerless >= 2) break;
      lower = std::max(lower, delta); // only steers the next delta; `worst` is untouched
      continue;
    }
    answerless = 0;
  }
  r.seconds = seconds(t0);
  return r;
}

using OutputReplay = std::function<std::pair<VectorXd, VectorXd>(const VectorXd&)>;
/// The two decisions at a point, in exact arithmetic.
using ExactDecisions = std::function<std::pair<Eigen::Index, Eigen::Index>(const VectorXd&)>;

/// verifyDecisionAgreement / verifyLeakDecision on `raw`, whose outputs are [P; Q; P - Q] (m
/// each); err: the rounding errors of the bias differences of the third block.
AgreementResult decideAgreement(const AffineNet& raw, const VectorXd& err, const Box& box,
                                DecisionRule rule, const FaithOptions& opt,
                                const OutputReplay& replay, const ExactDecisions& exact) {
  const auto t0 = Clock::now();
  AgreementResult r;
  const Eigen::Index m = err.size();
  if (rule == DecisionRule::Sign && m != 1)
    fail("the Sign decision rule needs one output, the networks have " + std::to_string(m));
  const double eps = opt.decisionMargin;
  if (!(eps >= 0) || !std::isfinite(eps))
    fail("decisionMargin must be finite and >= 0, got " + num(eps));
  if (rule == DecisionRule::Argmax && m == 1) {
    r.verdict = Verdict::Holds;
    r.reason = "one output: a single possible decision";
    r.seconds = seconds(t0);
    return r;
  }
  const AffineNet D = mergeIdenticalNeurons(raw);
  const Eigen::Index n = box.lo.size();
  NetworkQuery query;
  query.numInputs = static_cast<int>(n);
  query.numOutputs = static_cast<int>(3 * m);
  // The right-hand side of the implied row on the difference block: -eps + |e_j| + |e_k|,
  // rounded up so that the row stays implied by the others in real arithmetic.
  auto impliedRhs = [&](double slack) {
    double v = -eps + slack;
    return slack > 0 ? std::nextafter(std::nextafter(v, kInf), kInf) : v;
  };
  // A row sum_i c_i y_i <= rhs of a case, over the 3m outputs.
  struct Row {
    std::vector<std::pair<Eigen::Index, double>> terms;
    double rhs;
  };
  auto row = [](std::vector<std::pair<Eigen::Index, double>> terms, double rhs) {
    return Row{std::move(terms), rhs};
  };
  auto makeCase = [&](const std::vector<Row>& rows) {
    CaseSpec c;
    c.box = box;
    const auto nr = static_cast<Eigen::Index>(rows.size());
    c.C = Eigen::MatrixXd::Zero(nr, 3 * m);
    c.d = Eigen::VectorXd::Zero(nr);
    for (Eigen::Index r = 0; r < nr; ++r) {
      for (const auto& t : rows[static_cast<size_t>(r)].terms)
        c.C(r, t.first) += t.second;
      c.d[r] = rows[static_cast<size_t>(r)].rhs;
    }
    return c;
  };
  if (rule == DecisionRule::Sign) {
    const double imp = impliedRhs(std::abs(err[0]));
    // P >= eps, Q <= 0, (P - Q) >= eps
    query.cases.push_back(makeCase({row({{0, -1}}, -eps), row({{1, 1}}, 0), row({{2, -1}}, imp)}));
    // Q >= eps, P <= 0, (P - Q) <= -eps
    query.cases.push_back(makeCase({row({{1, -1}}, -eps), row({{0, 1}}, 0), row({{2, 1}}, imp)}));
  } else {
    for (Eigen::Index j = 0; j < m; ++j)
      for (Eigen::Index k = 0; k < m; ++k) {
        if (j == k) continue;
        std::vector<Row> rows; // P decides j, Q decides k (ties to the lowest index)
        for (Eigen::Index i = 0; i < m; ++i) {
          if (i != j) rows.push_back(row({{i, 1}, {j, -1}}, i < j ? -eps : 0.0));
          if (i != k) rows.push_back(row({{m + i, 1}, {m + k, -1}}, i < k ? -eps : 0.0));
        }
        rows.push_back(row({{2 * m + k, 1}, {2 * m + j, -1}},
                           impliedRhs(std::abs(err[j]) + std::abs(err[k]))));
        query.cases.push_back(makeCase(rows));
      }
  }
  Expected<VerifyResult> res = verifyNetwork(D, query, queryOptions(n, opt.timeoutSec, opt, 0));
  if (!res) {
    r.reason = "verifier error: " + res.error().str();
  } else if (res->verdict == Verdict::Violated) {
    auto [yA, yB] = replay(res->x);
    const bool floatDiffer = decision(yA, rule) != decision(yB, rule);
    const auto [dA, dB] = exact(res->x);
    if (dA != dB) {
      // A disagreement over the reals at a float64 point: the counterexample.
      r.verdict = Verdict::Violated;
      r.x = res->x;
      r.yA = yA;
      r.yB = yB;
      r.reason = "decisions differ (" + std::to_string(dA) + " vs " + std::to_string(dB) +
                 ", exact arithmetic); found by " + res->reason;
      if (!floatDiffer)
        r.reason += "; floating-point note: float64 evaluation rounds them to the same decision";
    } else {
      r.verdict = Verdict::Unknown;
      r.reason = floatDiffer ? "the verifier's point is a disagreement in float64 only (rounding "
                               "at a tie); in exact arithmetic both decide " +
                                   std::to_string(dA)
                             : "the verifier's point did not replay on the original networks "
                               "(rounding)";
    }
  } else {
    r.verdict = res->verdict;
    r.reason = res->reason;
    if (res->verdict == Verdict::Holds)
      r.reason = "proved (margin " + num(eps) + ")" + (r.reason.empty() ? "" : ": " + r.reason);
  }
  r.seconds = seconds(t0);
  return r;
}

Box productBox(const Box& box) {
  return {vcat(box.lo, box.lo), vcat(box.hi, box.hi)};
}

} // namespace

AffineNet differenceNetwork(const AffineNet& A, const AffineNet& B) {
  return sideBySide(A, B, Head::Difference, nullptr);
}

AffineNet productNetwork(const AffineNet& A, const AffineNet& B) {
  return sideBySide(A, B, Head::Product, nullptr);
}

AffineNet mergeIdenticalNeurons(const AffineNet& in) {
  checkNet(in, "network");
  AffineNet net = in;
  const size_t L = net.layers.size();
  if (L < 2) return net;
  // Forward: merge identical neurons of each hidden layer into their first copy.
  for (size_t k = 0; k + 1 < L; ++k) {
    AffineLayer& cur = net.layers[k];
    AffineLayer& nxt = net.layers[k + 1];
    const Eigen::Index rows = cur.W.rows(), cols = cur.W.cols();
    std::map<std::vector<double>, Eigen::Index> first;
    std::vector<char> keep(static_cast<size_t>(rows), 1);
    for (Eigen::Index i = 0; i < rows; ++i) {
      std::vector<double> key(static_cast<size_t>(cols) + 1);
      for (Eigen::Index j = 0; j < cols; ++j)
        key[static_cast<size_t>(j)] = cur.W(i, j) + 0.0; // -0 and +0 alike
      key.back() = cur.b[i] + 0.0;
      const bool zeroRow = cur.W.row(i).isZero(0.0);
      if (zeroRow && (cur.relu ? cur.b[i] <= 0 : cur.b[i] == 0)) { // constantly zero
        keep[static_cast<size_t>(i)] = 0;
        continue;
      }
      auto [it, inserted] = first.emplace(std::move(key), i);
      if (inserted) continue;
      const Eigen::Index rep = it->second;
      VectorXd sum(nxt.W.rows());
      bool exact = true;
      for (Eigen::Index r = 0; r < nxt.W.rows() && exact; ++r)
        exact = exactSum(nxt.W(r, rep), nxt.W(r, i), sum[r]);
      if (!exact) continue; // leave the duplicate rather than round
      nxt.W.col(rep) = sum;
      keep[static_cast<size_t>(i)] = 0;
    }
    if (std::find(keep.begin(), keep.end(), 1) == keep.end()) keep[0] = 1;
    keepNeurons(net, k, keep);
  }
  // Backward: drop neurons nothing reads.
  for (size_t k = L - 1; k-- > 0;) {
    const AffineLayer& nxt = net.layers[k + 1];
    std::vector<char> keep(static_cast<size_t>(nxt.W.cols()), 0);
    for (Eigen::Index i = 0; i < nxt.W.cols(); ++i)
      keep[static_cast<size_t>(i)] = nxt.W.col(i).isZero(0.0) ? 0 : 1;
    if (std::find(keep.begin(), keep.end(), 1) == keep.end()) keep[0] = 1;
    keepNeurons(net, k, keep);
  }
  return net;
}

DeviationBound certifyMaxDeviation(const AffineNet& A, const AffineNet& B, const Box& box,
                                   const FaithOptions& opt) {
  VectorXd err;
  AffineNet D = sideBySide(A, B, Head::Difference, &err);
  checkBox(box, A.inputSize);
  DeviationReplay replay = [&](const VectorXd& x) {
    return (A.forward(x) - B.forward(x)).lpNorm<Eigen::Infinity>();
  };
  return bracketMaxDeviation(D, err.size() ? err.cwiseAbs().maxCoeff() : 0.0, box, opt, replay);
}

AgreementResult verifyDecisionAgreement(const AffineNet& A, const AffineNet& B, const Box& box,
                                        DecisionRule rule, const FaithOptions& opt) {
  VectorXd err;
  AffineNet D = sideBySide(A, B, Head::ProductAndDifference, &err);
  checkBox(box, A.inputSize);
  OutputReplay replay = [&](const VectorXd& x) {
    return std::make_pair(A.forward(x), B.forward(x));
  };
  ExactDecisions exact = [&](const VectorXd& x) {
    return std::make_pair(exactDecision(exactForward(A, x), rule),
                          exactDecision(exactForward(B, x), rule));
  };
  return decideAgreement(D, err, box, rule, opt, replay, exact);
}

AffineNet leakNetwork(const AffineNet& N, const std::vector<std::vector<bool>>& S,
                      const AffineNet& C) {
  return leakStreams(N, S, C, Head::Difference, nullptr);
}

MatrixXd patchedForward(const AffineNet& N, const std::vector<std::vector<bool>>& S,
                        const MatrixXd& X, const MatrixXd& Xpatch) {
  checkNet(N, "network N");
  checkUnits(N, S);
  if (X.cols() != N.inputSize || Xpatch.cols() != N.inputSize || X.rows() != Xpatch.rows())
    fail("patchedForward: X is " + std::to_string(X.rows()) + "x" + std::to_string(X.cols()) +
         " and Xpatch " + std::to_string(Xpatch.rows()) + "x" + std::to_string(Xpatch.cols()) +
         "; both must be samples x " + std::to_string(N.inputSize));
  MatrixXd P = X.transpose(), A = Xpatch.transpose();
  for (size_t k = 0; k < N.layers.size(); ++k) {
    const AffineLayer& L = N.layers[k];
    const bool hidden = k + 1 < N.layers.size();
    MatrixXd Zp = L.W * P;
    Zp.colwise() += L.b;
    if (hidden) {
      MatrixXd Za = L.W * A;
      Za.colwise() += L.b;
      for (Eigen::Index i = 0; i < Zp.rows(); ++i)
        if (S[k][static_cast<size_t>(i)]) Zp.row(i) = Za.row(i);
      A = L.relu ? MatrixXd(Za.cwiseMax(0.0)) : Za;
    }
    P = L.relu ? MatrixXd(Zp.cwiseMax(0.0)) : Zp;
  }
  return P.transpose();
}

DeviationBound certifyMaxLeak(const AffineNet& N, const std::vector<std::vector<bool>>& S,
                              const AffineNet& C, const Box& box, const FaithOptions& opt) {
  VectorXd err;
  AffineNet D = leakStreams(N, S, C, Head::Difference, &err);
  checkBox(box, N.inputSize);
  const Eigen::Index n = N.inputSize;
  DeviationReplay replay = [&](const VectorXd& z) {
    const VectorXd x = z.head(n), xp = z.tail(n);
    const VectorXd yP = patchedForward(N, S, x.transpose(), xp.transpose()).row(0).transpose();
    return (yP - C.forward(xp)).lpNorm<Eigen::Infinity>();
  };
  return bracketMaxDeviation(D, err.size() ? err.cwiseAbs().maxCoeff() : 0.0, productBox(box), opt,
                             replay);
}

AgreementResult verifyLeakDecision(const AffineNet& N, const std::vector<std::vector<bool>>& S,
                                   const AffineNet& C, const Box& box, DecisionRule rule,
                                   const FaithOptions& opt) {
  VectorXd err;
  AffineNet D = leakStreams(N, S, C, Head::ProductAndDifference, &err);
  checkBox(box, N.inputSize);
  const Eigen::Index n = N.inputSize;
  OutputReplay replay = [&](const VectorXd& z) {
    const VectorXd x = z.head(n), xp = z.tail(n);
    VectorXd yP = patchedForward(N, S, x.transpose(), xp.transpose()).row(0).transpose();
    return std::make_pair(yP, C.forward(xp));
  };
  ExactDecisions exact = [&](const VectorXd& z) {
    const VectorXd x = z.head(n), xp = z.tail(n);
    return std::make_pair(exactDecision(exactPatchedForward(N, S, x, xp), rule),
                          exactDecision(exactForward(C, xp), rule));
  };
  return decideAgreement(D, err, productBox(box), rule, opt, replay, exact);
}

AffineNet resampleCircuitNetwork(const AffineNet& N, const neural::Circuit& c) {
  checkNet(N, "network N");
  neural::checkCircuitShape(N, c);
  // State after layer k: [circuit units; N's units on x'] (the last layer: the circuit's outputs).
  AffineNet R;
  R.inputSize = 2 * N.inputSize;
  const size_t L = N.layers.size();
  for (size_t k = 0; k < L; ++k) {
    const AffineLayer& A = N.layers[k];
    const bool last = k + 1 == L;
    const Eigen::Index out = A.W.rows(), in = A.W.cols();
    const MatrixXd kept = A.W.cwiseProduct(c.keep[k].cast<double>());
    const MatrixXd cut = A.W - kept;
    AffineLayer B;
    B.relu = A.relu;
    B.W = MatrixXd::Zero(last ? out : 2 * out, 2 * in);
    B.b = VectorXd::Zero(B.W.rows());
    B.W.topLeftCorner(out, in) = kept;
    B.W.topRightCorner(out, in) = cut;
    B.b.head(out) = A.b;
    if (!last) {
      B.W.bottomRightCorner(out, in) = A.W;
      B.b.tail(out) = A.b;
    }
    R.layers.push_back(std::move(B));
  }
  return R;
}

AffineNet onFirstHalf(const AffineNet& N) {
  checkNet(N, "network N");
  AffineNet R = N;
  R.inputSize = 2 * N.inputSize;
  if (!R.layers.empty()) {
    MatrixXd W = MatrixXd::Zero(N.layers[0].W.rows(), 2 * N.inputSize);
    W.leftCols(N.inputSize) = N.layers[0].W;
    R.layers[0].W = std::move(W);
  }
  return R;
}

Box pairBox(const Box& box) {
  return productBox(box);
}

} // namespace chassis::verifier
