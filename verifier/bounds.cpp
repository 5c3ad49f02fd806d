// Bound propagation on AffineNet: interval (IBP) and back-substitution (DeepPoly/CROWN).
//
// Maths. Layer k computes h_k = W_k z_{k-1} + b_k and z_k = relu(h_k) (or z_k = h_k). Given
// sound bounds l <= h <= u of an unstable neuron (l < 0 < u), relu is sandwiched by
//   lower:  z >= a h          with a = 1 if u > -l else 0   (adaptive DeepPoly slope)
//   upper:  z <= s (h - l)    with s = u / (u - l)          (the triangle's upper side)
// and is exactly h (l >= 0) or 0 (u <= 0) when stable. A lower bound of Lambda z_k + c is turned
// into one of Lambda' h_k + c' by taking the lower relaxation where Lambda >= 0 and the upper one
// where Lambda < 0, then into one of (Lambda' W_k) z_{k-1} + (c' + Lambda' b_k), down to the input
// x, where min over the box of A x + c is sum_j min(A_j lo_j, A_j hi_j) + c. Upper bounds are
// lower bounds of the negated objective. Phase splits restrict the domain to h >= 0 (active) or
// h <= 0 (inactive): bounds are clamped accordingly, and the relaxations above are sound on the
// restricted domain, whose bound the box minimum over-approximates.
//
// Outward rounding. Every quantity is computed in float64, and the algorithm's real-arithmetic
// result with the SAME computed coefficients is a valid bound (any Lambda gives a valid linear
// bound as long as the relaxations it uses are valid). We bound the distance between the computed
// and that real result with the classical dot-product bound (Higham, Accuracy and Stability,
// Thm 3.5 / eq. 3.5): |fl(sum a_i b_i) - sum a_i b_i| <= gamma_n sum |a_i b_i| with
// gamma_n = n u / (1 - n u), u = 2^-53, for any summation order and with or without FMA. So
//  - a product Lambda W (inner size n) whose result multiplies z_{k-1} with |z_{k-1}| <= m
//    perturbs the linear function by at most gamma_n |Lambda| (|W| m)  (added to `err`);
//  - the constant update c + Lambda b errs by at most gamma_{n+1} (|Lambda| |b| + |c|);
//  - the elementwise products Lambda * s err by u |Lambda s| |h|, |h| <= max(|l|, |u|);
//  - the upper relaxation built from a rounded slope s~ = s (1 + d), |d| <= 2u, can undercut
//    relu by |d| u_j <= 2u |u_j| plus u |s l| for its intercept: we raise the intercept by
//    4u (|l| + |u|), which covers both;
//  - the final box minimum errs by gamma_{n+1} (|A| max(|lo|,|hi|) + |c|).
// We use gamma'_n = 2 (n + 2) u (> gamma_n for any n < 2^50) to absorb the rounding of the error
// sums themselves, and subtract a further absolute 1e-290 per step against underflow. The
// allowance is then subtracted from (added to) each lower (upper) bound.
#include "verifier/bounds.h"
#include "verifier/cancellation.h"

#include <Eigen/SparseCore>

#include <algorithm>
#include <cmath>
#include <optional>

namespace chassis::verifier {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using neural::AffineNet;

constexpr double kUnit = 1.1102230246251565e-16; // 2^-53
constexpr double kTiny = 1e-290;

double gammaN(Eigen::Index n) {
  return 2.0 * static_cast<double>(n + 2) * kUnit;
}

/// Largest |value| of layer k's output z_k (k = -1: the input box).
VectorXd zAbsMax(const AffineNet& net, const Box& box, const NetBounds& nb, int k) {
  if (k < 0) return box.lo.cwiseAbs().cwiseMax(box.hi.cwiseAbs());
  if (net.layers[k].relu) return nb.hi[k].cwiseMax(0.0);
  return nb.lo[k].cwiseAbs().cwiseMax(nb.hi[k].cwiseAbs());
}

/// Clamps layer k's bounds by its splits; returns false if some neuron becomes empty.
bool applySplits(const AffineNet& net, const Splits& splits, NetBounds& nb, int k) {
  if (k < static_cast<int>(splits.size()) && !splits[k].empty() && net.layers[k].relu) {
    for (Eigen::Index j = 0; j < nb.lo[k].size(); ++j) {
      if (splits[k][j] > 0) nb.lo[k][j] = std::max(nb.lo[k][j], 0.0);
      if (splits[k][j] < 0) nb.hi[k][j] = std::min(nb.hi[k][j], 0.0);
    }
  }
  for (Eigen::Index j = 0; j < nb.lo[k].size(); ++j)
    if (nb.lo[k][j] > nb.hi[k][j]) return false;
  return true;
}

/// Interval propagation of layer k from the bounds of its input.
void intervalLayer(const AffineNet& net, const WeightProducts& wp, const Box& box, NetBounds& nb,
                   int k) {
  const auto& L = net.layers[k];
  VectorXd zl, zu;
  if (k == 0) {
    zl = box.lo;
    zu = box.hi;
  } else if (net.layers[k - 1].relu) {
    zl = nb.lo[k - 1].cwiseMax(0.0);
    zu = nb.hi[k - 1].cwiseMax(0.0);
  } else {
    zl = nb.lo[k - 1];
    zu = nb.hi[k - 1];
  }
  VectorXd lo = wp.signSplitTimes(k, zl, zu) + L.b;
  VectorXd hi = wp.signSplitTimes(k, zu, zl) + L.b;
  VectorXd m = zl.cwiseAbs().cwiseMax(zu.cwiseAbs());
  VectorXd err = gammaN(L.W.cols() + 1) * (wp.absTimes(k, m) + L.b.cwiseAbs()).array() + kTiny;
  nb.lo[k] = lo - err;
  nb.hi[k] = hi + err;
}

/// beta-CROWN: on the split domain s_j h_j >= 0 for every split neuron j (s_j = +1 active,
/// -1 inactive), so for any beta_j >= 0 the objective Lam h is >= Lam h - sum_j beta_j s_j h_j,
/// and a lower bound of the latter is one of the former. Adds -beta_rj s_j to column j of the
/// objective over h (rows x n) for the split neurons (beta clamped at 0; other columns and a
/// mis-sized beta ignored). The subtraction rounds: |fl(a - b) - (a - b)| <= u |fl(a - b)| (1+u),
/// times |h_j| <= hm_j, is added to err (2u covers the (1+u)).
void addSplitMultipliers(const std::vector<int8_t>& split, const MatrixXd& beta,
                         const VectorXd& hm, MatrixXd& out, VectorXd& err) {
  const Eigen::Index n = out.cols();
  if (static_cast<Eigen::Index>(split.size()) != n || beta.rows() != out.rows() ||
      beta.cols() != n)
    return;
  for (Eigen::Index j = 0; j < n; ++j) {
    if (split[static_cast<size_t>(j)] == 0) continue;
    const double s = split[static_cast<size_t>(j)] > 0 ? 1.0 : -1.0;
    out.col(j) -= s * beta.col(j).cwiseMax(0.0);
    err += (2.0 * kUnit * hm[j]) * out.col(j).cwiseAbs();
    err.array() += kTiny;
  }
}

/// Relaxes z_k = relu(h_k) (or identity) under the row objective Lam (over z_k): returns the
/// objective over h_k, accumulating constants into cst and rounding allowances into err.
/// `alpha` (rows x n, may be null): the lower slope of each row's unstable neurons, clamped to
/// [0, 1] (z >= a h holds for every a in [0, 1] when l < 0 < u); null: DeepPoly's 0/1 choice.
/// `split` and `beta` (may be null; beta rows x n): beta-CROWN's multipliers of the phase splits,
/// see addSplitMultipliers.
MatrixXd relaxLayer(const AffineNet& net, const NetBounds& nb, int k, const MatrixXd& Lam,
                    VectorXd& cst, VectorXd& err, const MatrixXd* alpha = nullptr,
                    const std::vector<int8_t>* split = nullptr, const MatrixXd* beta = nullptr) {
  if (!net.layers[k].relu) return Lam;
  const VectorXd& l = nb.lo[k];
  const VectorXd& u = nb.hi[k];
  const Eigen::Index n = l.size();
  VectorXd a(n), s(n), t(n);
  for (Eigen::Index j = 0; j < n; ++j) {
    if (u[j] <= 0) {
      a[j] = s[j] = t[j] = 0.0;
    } else if (l[j] >= 0) {
      a[j] = s[j] = 1.0;
      t[j] = 0.0;
    } else {
      a[j] = u[j] > -l[j] ? 1.0 : 0.0;
      s[j] = u[j] / (u[j] - l[j]);
      t[j] = -s[j] * l[j] + 4.0 * kUnit * (std::fabs(l[j]) + std::fabs(u[j])) + kTiny;
    }
  }
  MatrixXd Lp = Lam.cwiseMax(0.0), Ln = Lam.cwiseMin(0.0);
  MatrixXd out = Lp * a.asDiagonal();
  if (alpha && alpha->rows() == Lam.rows() && alpha->cols() == n)
    for (Eigen::Index j = 0; j < n; ++j)
      if (l[j] < 0 && u[j] > 0)
        out.col(j) = Lp.col(j).cwiseProduct(alpha->col(j).cwiseMax(0.0).cwiseMin(1.0));
  out += Ln * s.asDiagonal();
  VectorXd tc = Ln * t; // <= 0: the upper relaxation's intercepts where Lam < 0
  VectorXd hm = l.cwiseAbs().cwiseMax(u.cwiseAbs());
  err += (kUnit * (out.cwiseAbs() * hm)).array().matrix() +
         (gammaN(n + 1) * (Ln.cwiseAbs() * t.cwiseAbs() + cst.cwiseAbs())).eval();
  cst += tc;
  if (split && beta) addSplitMultipliers(*split, *beta, hm, out, err);
  return out;
}

/// Layer k's splits and multipliers, or null when there are none.
const std::vector<int8_t>* layerSplit(const Splits* splits, int k) {
  return splits && static_cast<size_t>(k) < splits->size() ? &(*splits)[k] : nullptr;
}
const MatrixXd* layerBeta(const Slopes* beta, int k) {
  return beta && static_cast<size_t>(k) < beta->size() ? &(*beta)[k] : nullptr;
}

/// Back-substitutes the objective Lam over h_top down to the input: returns A with
/// Lam h_top >= A x + cst - err on the domain.
void backSubstitute(const AffineNet& net, const WeightProducts& wp, const Box& box,
                    const NetBounds& nb, int top,
                    MatrixXd Lam, MatrixXd& A, VectorXd& cst, VectorXd& err,
                    const Slopes* alpha = nullptr, std::vector<MatrixXd>* lamOut = nullptr,
                    const Splits* splits = nullptr, const Slopes* beta = nullptr) {
  for (int k = top; k >= 0; --k) {
    pollCancellation();
    const auto& L = net.layers[k];
    VectorXd vk = wp.absTimes(k, zAbsMax(net, box, nb, k - 1));
    MatrixXd absLam = Lam.cwiseAbs();
    err += gammaN(L.W.rows()) * (absLam * vk) +
           gammaN(L.W.rows() + 1) * (absLam * L.b.cwiseAbs() + cst.cwiseAbs());
    err.array() += kTiny;
    cst += Lam * L.b;
    Lam = wp.leftTimes(k, Lam);
    if (k == 0) break;
    if (lamOut) (*lamOut)[k - 1] = Lam;
    const MatrixXd* a =
        alpha && static_cast<size_t>(k - 1) < alpha->size() ? &(*alpha)[k - 1] : nullptr;
    Lam = relaxLayer(net, nb, k - 1, Lam, cst, err, a, layerSplit(splits, k - 1),
                     layerBeta(beta, k - 1));
  }
  A = std::move(Lam);
}

/// min over the box of A x + cst, minus err and the rounding of this evaluation.
VectorXd boxMinimum(const Box& box, const MatrixXd& A, const VectorXd& cst, const VectorXd& err) {
  MatrixXd Ap = A.cwiseMax(0.0), An = A.cwiseMin(0.0);
  VectorXd v = Ap * box.lo + An * box.hi + cst;
  VectorXd m = box.lo.cwiseAbs().cwiseMax(box.hi.cwiseAbs());
  VectorXd e = err + gammaN(A.cols() + 1) * (A.cwiseAbs() * m + cst.cwiseAbs());
  return v - e - VectorXd::Constant(v.size(), kTiny);
}

} // namespace

WeightProducts::WeightProducts(const AffineNet& net) : net_(&net) {
  const size_t L = net.layers.size();
  sparse_.resize(L);
  pos_.resize(L);
  neg_.resize(L);
  abs_.resize(L);
  for (size_t k = 0; k < L; ++k) {
    const MatrixXd& W = net.layers[k].W;
    if (W.size() < 4096) continue;
    const Eigen::Index nnz = (W.array() != 0.0).count();
    if (nnz == 0 || 10 * nnz >= W.size()) continue;
    // Reference 0 and epsilon 0: only exact zeros are dropped.
    sparse_[k] = W.sparseView(0.0, 0.0);
    sparse_[k].makeCompressed();
    // The parts from the compressed copy (no dense n x m temporary each): the same entries in
    // the same order as the compressed dense parts, each zero part dropped.
    pos_[k] = sparse_[k].unaryExpr([](double w) { return w > 0.0 ? w : 0.0; });
    pos_[k].prune(0.0, 0.0);
    neg_[k] = sparse_[k].unaryExpr([](double w) { return w < 0.0 ? w : 0.0; });
    neg_[k].prune(0.0, 0.0);
    abs_[k] = sparse_[k].cwiseAbs();
  }
}

Eigen::MatrixXd WeightProducts::leftTimes(int k, const Eigen::MatrixXd& Lam) const {
  const auto& S = sparse_[static_cast<size_t>(k)];
  if (S.nonZeros() == 0) return Lam * net_->layers[static_cast<size_t>(k)].W;
  // Column c of Lam W is sum_r W(r, c) Lam.col(r): contiguous axpys over the non-zeros of
  // W's column c (Eigen's sparse product would write the transposed result with strides).
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(Lam.rows(), S.cols());
  for (Eigen::Index c = 0; c < S.outerSize(); ++c)
    for (Sparse::InnerIterator it(S, c); it; ++it) out.col(c) += it.value() * Lam.col(it.index());
  return out;
}

Eigen::MatrixXd WeightProducts::rowsThrough(int k, const Eigen::MatrixXd& Z) const {
  const auto& S = sparse_[static_cast<size_t>(k)];
  if (S.nonZeros() == 0) return Z * net_->layers[static_cast<size_t>(k)].W.transpose();
  // Column j of Z W^T is sum_i W(j, i) Z.col(i): W's column i scatters Z.col(i).
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(Z.rows(), S.rows());
  for (Eigen::Index i = 0; i < S.outerSize(); ++i)
    for (Sparse::InnerIterator it(S, i); it; ++it) out.col(it.index()) += it.value() * Z.col(i);
  return out;
}

Eigen::VectorXd WeightProducts::absTimes(int k, const Eigen::VectorXd& v) const {
  const size_t kk = static_cast<size_t>(k);
  if (sparse_[kk].nonZeros() == 0) return net_->layers[kk].W.cwiseAbs() * v;
  return abs_[kk] * v;
}

Eigen::MatrixXd WeightProducts::absTimesColumns(int k, const Eigen::MatrixXd& M) const {
  const size_t kk = static_cast<size_t>(k);
  if (sparse_[kk].nonZeros() == 0) return net_->layers[kk].W.cwiseAbs() * M;
  // (M^T |W|^T)^T, as rowsThrough: |W|'s column i scatters row i of M into the rows of the
  // result its non-zeros reach, as contiguous axpys over M's columns (Eigen's sparse-times-dense
  // product walks the result with strides, one column of M at a time).
  const Sparse& S = abs_[kk];
  const Eigen::MatrixXd Mt = M.transpose();
  Eigen::MatrixXd outT = Eigen::MatrixXd::Zero(M.cols(), S.rows());
  for (Eigen::Index i = 0; i < S.outerSize(); ++i)
    for (Sparse::InnerIterator it(S, i); it; ++it) outT.col(it.index()) += it.value() * Mt.col(i);
  return outT.transpose();
}

Eigen::VectorXd WeightProducts::signSplitTimes(int k, const Eigen::VectorXd& p,
                                               const Eigen::VectorXd& q) const {
  const size_t kk = static_cast<size_t>(k);
  if (sparse_[kk].nonZeros() == 0) {
    const MatrixXd& W = net_->layers[kk].W;
    return W.cwiseMax(0.0) * p + W.cwiseMin(0.0) * q;
  }
  return pos_[kk] * p + neg_[kk] * q;
}

Eigen::MatrixXd timesWeights(const Eigen::MatrixXd& Lam, const Eigen::MatrixXd& W) {
  // A sparse copy costs one pass over W; the dense product Lam.rows() passes.
  if (Lam.rows() < 4 || W.size() < 4096) return Lam * W;
  const Eigen::Index nnz = (W.array() != 0.0).count();
  if (10 * nnz >= W.size()) return Lam * W;
  Eigen::SparseMatrix<double, Eigen::ColMajor> S = W.sparseView();
  // (S^T Lam^T)^T: a sparse-times-dense product Eigen evaluates without densifying.
  Eigen::MatrixXd out = (S.transpose() * Lam.transpose()).transpose();
  return out;
}

int NetBounds::unstable(const AffineNet& net) const {
  int n = 0;
  for (size_t k = 0; k < lo.size(); ++k)
    if (net.layers[k].relu)
      for (Eigen::Index j = 0; j < lo[k].size(); ++j)
        if (lo[k][j] < 0 && hi[k][j] > 0) ++n;
  return n;
}

NetBounds intervalBounds(const AffineNet& net, const Box& box, const Splits& splits) {
  const WeightProducts wp(net);
  NetBounds nb;
  const int L = static_cast<int>(net.layers.size());
  nb.lo.resize(L);
  nb.hi.resize(L);
  for (int k = 0; k < L; ++k) {
    intervalLayer(net, wp, box, nb, k);
    if (!applySplits(net, splits, nb, k)) {
      nb.infeasible = true;
      return nb;
    }
  }
  return nb;
}

/// Tightens the unstable neurons of layer k (lo < 0 < hi) by back-substituting +e_j and -e_j to
/// the input box, keeping the intersection with the bounds already there. False when the layer
/// has no unstable neuron (nothing to do).
static bool tightenUnstable(const AffineNet& net, const WeightProducts& wp, const Box& box,
                            NetBounds& nb, int k) {
  std::vector<Eigen::Index> rows;
  for (Eigen::Index j = 0; j < nb.lo[k].size(); ++j)
    if (nb.lo[k][j] < 0 && nb.hi[k][j] > 0) rows.push_back(j);
  if (rows.empty()) return false;
  // In blocks of neurons: each row's bound is computed independently of the others, so the
  // blocks give the same bounds as one product, in bounded memory, with a cancellation check
  // (cancellation.h) between blocks.
  constexpr size_t kBlock = 64;
  for (size_t b0 = 0; b0 < rows.size(); b0 += kBlock) {
    pollCancellation();
    const Eigen::Index r = static_cast<Eigen::Index>(std::min(kBlock, rows.size() - b0));
    MatrixXd Lam = MatrixXd::Zero(2 * r, nb.lo[k].size());
    for (Eigen::Index i = 0; i < r; ++i) {
      Lam(i, rows[b0 + static_cast<size_t>(i)]) = 1.0;
      Lam(r + i, rows[b0 + static_cast<size_t>(i)]) = -1.0;
    }
    MatrixXd A;
    VectorXd cst = VectorXd::Zero(2 * r), err = VectorXd::Zero(2 * r);
    backSubstitute(net, wp, box, nb, k, Lam, A, cst, err);
    VectorXd low = boxMinimum(box, A, cst, err);
    for (Eigen::Index i = 0; i < r; ++i) {
      Eigen::Index j = rows[b0 + static_cast<size_t>(i)];
      nb.lo[k][j] = std::max(nb.lo[k][j], low[i]);
      nb.hi[k][j] = std::min(nb.hi[k][j], -low[r + i]);
    }
  }
  return true;
}

NetBounds symbolicBounds(const AffineNet& net, const Box& box, const Splits& splits,
                         const WeightProducts* wpIn) {
  std::optional<WeightProducts> own;
  if (!wpIn) own.emplace(net);
  const WeightProducts& wp = wpIn ? *wpIn : *own;
  NetBounds nb;
  const int L = static_cast<int>(net.layers.size());
  nb.lo.resize(L);
  nb.hi.resize(L);
  for (int k = 0; k < L; ++k) {
    intervalLayer(net, wp, box, nb, k);
    if (!applySplits(net, splits, nb, k)) {
      nb.infeasible = true;
      return nb;
    }
    // Only unstable neurons of ReLU layers gain from tighter bounds; the first layer's
    // interval bounds are already the exact range of an affine map.
    if (k == 0 || !net.layers[k].relu) continue;
    if (!tightenUnstable(net, wp, box, nb, k)) continue;
    if (!applySplits(net, splits, nb, k)) {
      nb.infeasible = true;
      return nb;
    }
  }
  return nb;
}

void refineBounds(const AffineNet& net, const Box& box, NetBounds& nb,
                  const WeightProducts* wpIn) {
  std::optional<WeightProducts> own;
  if (!wpIn) own.emplace(net);
  const WeightProducts& wp = wpIn ? *wpIn : *own;
  const int L = static_cast<int>(net.layers.size());
  for (int k = 1; k < L; ++k) {
    if (net.layers[k].relu) tightenUnstable(net, wp, box, nb, k);
  }
}

LinearLower outputLowerBound(const AffineNet& net, const Box& box, const NetBounds& nb,
                             const Eigen::MatrixXd& C) {
  return outputLowerBound(net, box, nb, C, nullptr, nullptr);
}

/// The bound of the rows of C times the output of the first `depth` layers (with layer
/// depth-1's ReLU if topRelu, else its pre-activation).
static LinearLower linearLowerBound(const AffineNet& net, int depth, bool topRelu, const Box& box,
                                    const NetBounds& nb, const Eigen::MatrixXd& C,
                                    const Slopes* alpha, std::vector<Eigen::MatrixXd>* lamOut,
                                    const Splits* splits, const Slopes* beta,
                                    const WeightProducts* wpIn) {
  LinearLower out;
  const int L = depth;
  VectorXd cst = VectorXd::Zero(C.rows()), err = VectorXd::Zero(C.rows());
  if (L == 0) { // the identity network
    out.A = C;
    out.c = cst;
    out.lower = boxMinimum(box, C, cst, err);
    return out;
  }
  std::optional<WeightProducts> own;
  if (!wpIn) own.emplace(net);
  const WeightProducts& wp = wpIn ? *wpIn : *own;
  if (lamOut) lamOut->assign(static_cast<size_t>(L), MatrixXd());
  if (lamOut) (*lamOut)[L - 1] = C;
  const MatrixXd* a =
      alpha && static_cast<size_t>(L - 1) < alpha->size() ? &(*alpha)[L - 1] : nullptr;
  MatrixXd Lam = topRelu ? relaxLayer(net, nb, L - 1, C, cst, err, a, layerSplit(splits, L - 1),
                                      layerBeta(beta, L - 1))
                         : C;
  backSubstitute(net, wp, box, nb, L - 1, Lam, out.A, cst, err, alpha, lamOut, splits, beta);
  out.c = cst;
  out.lower = boxMinimum(box, out.A, cst, err);
  return out;
}

std::vector<LinearLower> outputLowerBounds(const AffineNet& net,
                                           const std::vector<BoundQuery>& qs,
                                           const WeightProducts* wpIn) {
  const size_t Q = qs.size();
  std::vector<LinearLower> out(Q);
  if (Q == 0) return out;
  const int L = static_cast<int>(net.layers.size());
  // Each query's rows in the stacked objective: [off[q], off[q] + C.rows()).
  std::vector<Eigen::Index> off(Q + 1, 0);
  for (size_t q = 0; q < Q; ++q) off[q + 1] = off[q] + qs[q].C->rows();
  const Eigen::Index R = off[Q];
  if (L == 0) {
    for (size_t q = 0; q < Q; ++q)
      out[q] = outputLowerBound(net, *qs[q].box, *qs[q].nb, *qs[q].C, qs[q].alpha, qs[q].lamOut,
                                qs[q].splits, qs[q].beta, wpIn);
    return out;
  }
  std::optional<WeightProducts> own;
  if (!wpIn) own.emplace(net);
  const WeightProducts& wp = wpIn ? *wpIn : *own;
  auto rows = [&](size_t q) { return off[q + 1] - off[q]; };
  auto layerAlpha = [&](size_t q, int k) -> const MatrixXd* {
    return qs[q].alpha && static_cast<size_t>(k) < qs[q].alpha->size() ? &(*qs[q].alpha)[k]
                                                                         : nullptr;
  };
  VectorXd cst = VectorXd::Zero(R), err = VectorXd::Zero(R);
  MatrixXd Lam(R, net.layers[L - 1].W.rows());
  // Relaxes layer k's ReLU for every query's rows of the stacked objective G (over z_k), with
  // the query's own bounds, slopes and multipliers: relaxLayer on each block.
  auto relaxAll = [&](int k, const MatrixXd& G) {
    if (!net.layers[k].relu) return G;
    MatrixXd H(G.rows(), G.cols());
    for (size_t q = 0; q < Q; ++q) {
      const Eigen::Index o = off[q], r = rows(q);
      if (r == 0) continue;
      VectorXd c = cst.segment(o, r), e = err.segment(o, r);
      H.middleRows(o, r) = relaxLayer(net, *qs[q].nb, k, G.middleRows(o, r), c, e,
                                      layerAlpha(q, k), layerSplit(qs[q].splits, k),
                                      layerBeta(qs[q].beta, k));
      cst.segment(o, r) = c;
      err.segment(o, r) = e;
    }
    return H;
  };
  for (size_t q = 0; q < Q; ++q) {
    if (qs[q].lamOut) {
      qs[q].lamOut->assign(static_cast<size_t>(L), MatrixXd());
      (*qs[q].lamOut)[L - 1] = *qs[q].C;
    }
    Lam.middleRows(off[q], rows(q)) = *qs[q].C;
  }
  Lam = relaxAll(L - 1, Lam);
  // backSubstitute over the stacked objective (see there for the allowances, row by row the
  // same): one product per layer for all queries.
  // The magnitudes' column of each query: one per distinct (box, magnitude bounds) pair.
  std::vector<Eigen::Index> col(Q);
  std::vector<size_t> firstOf; // a query of each column
  for (size_t q = 0; q < Q; ++q) {
    const NetBounds* mq = qs[q].magnitudes ? qs[q].magnitudes : qs[q].nb;
    col[q] = static_cast<Eigen::Index>(firstOf.size());
    for (size_t c = 0; c < firstOf.size(); ++c) {
      const size_t p = firstOf[c];
      if (qs[p].box == qs[q].box && (qs[p].magnitudes ? qs[p].magnitudes : qs[p].nb) == mq) {
        col[q] = static_cast<Eigen::Index>(c);
        break;
      }
    }
    if (col[q] == static_cast<Eigen::Index>(firstOf.size())) firstOf.push_back(q);
  }
  MatrixXd M;
  for (int k = L - 1; k >= 0; --k) {
    pollCancellation();
    const auto& layer = net.layers[k];
    M.resize(layer.W.cols(), static_cast<Eigen::Index>(firstOf.size()));
    for (size_t c = 0; c < firstOf.size(); ++c) {
      const BoundQuery& bq = qs[firstOf[c]];
      M.col(static_cast<Eigen::Index>(c)) =
          zAbsMax(net, *bq.box, bq.magnitudes ? *bq.magnitudes : *bq.nb, k - 1);
    }
    const MatrixXd V = wp.absTimesColumns(k, M);
    const MatrixXd absLam = Lam.cwiseAbs();
    const VectorXd absB = layer.b.cwiseAbs();
    for (size_t q = 0; q < Q; ++q) {
      const Eigen::Index o = off[q], r = rows(q);
      if (r == 0) continue;
      err.segment(o, r) +=
          gammaN(layer.W.rows()) * (absLam.middleRows(o, r) * V.col(col[q])) +
          gammaN(layer.W.rows() + 1) *
              (absLam.middleRows(o, r) * absB + cst.segment(o, r).cwiseAbs());
    }
    err.array() += kTiny;
    cst += Lam * layer.b;
    Lam = wp.leftTimes(k, Lam);
    if (k == 0) break;
    for (size_t q = 0; q < Q; ++q)
      if (qs[q].lamOut) (*qs[q].lamOut)[k - 1] = Lam.middleRows(off[q], rows(q));
    Lam = relaxAll(k - 1, Lam);
  }
  for (size_t q = 0; q < Q; ++q) {
    const Eigen::Index o = off[q], r = rows(q);
    out[q].A = Lam.middleRows(o, r);
    out[q].c = cst.segment(o, r);
    out[q].lower = boxMinimum(*qs[q].box, out[q].A, out[q].c, err.segment(o, r));
  }
  return out;
}

LinearLower outputLowerBound(const AffineNet& net, const Box& box, const NetBounds& nb,
                             const Eigen::MatrixXd& C, const Slopes* alpha,
                             std::vector<Eigen::MatrixXd>* lamOut, const Splits* splits,
                             const Slopes* beta, const WeightProducts* wp) {
  return linearLowerBound(net, static_cast<int>(net.layers.size()), true, box, nb, C, alpha,
                          lamOut, splits, beta, wp);
}

LinearLower preActivationLowerBound(const AffineNet& net, int k, const Box& box,
                                    const NetBounds& nb, const Eigen::MatrixXd& C,
                                    const Slopes* alpha, std::vector<Eigen::MatrixXd>* lamOut,
                                    const Splits* splits, const Slopes* beta,
                                    const WeightProducts* wp) {
  return linearLowerBound(net, k + 1, false, box, nb, C, alpha, lamOut, splits, beta, wp);
}

} // namespace chassis::verifier
