// Joint alpha/beta optimisation (see beta_crown.h for the maths; alpha_crown.cpp delegates here).
#include "verifier/beta_crown.h"
#include "verifier/cancellation.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace chassis::verifier {

using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

/// Adam's moments of one parameter matrix.
struct Moments {
  MatrixXd m1, m2;
};

/// One Adam ascent step on p with gradient g; p1, p2 the powers of b1, b2 so far.
double adamStep(double g, double& mm, double& vv, double p1, double p2) {
  constexpr double b1 = 0.9, b2 = 0.999;
  mm = b1 * mm + (1 - b1) * g;
  vv = b2 * vv + (1 - b2) * g * g;
  return (mm / (1 - p1)) / (std::sqrt(vv / (1 - p2)) + 1e-12);
}

bool isSplit(const Splits& splits, size_t k, Eigen::Index j) {
  return k < splits.size() && static_cast<Eigen::Index>(splits[k].size()) > j &&
         splits[k][static_cast<size_t>(j)] != 0;
}

/// The optimised bound of the rows of C times the output of the first `depth` layers (with
/// layer depth-1's ReLU if topRelu, else its pre-activation).
LinearLower optimisedBound(const neural::AffineNet& net, int depth, bool topRelu, const Box& box,
                           const NetBounds& nb, const MatrixXd& C, const Splits& splits,
                           const AlphaCrownOptions& opt, Slopes* alphaIO, Slopes* betaIO,
                           std::vector<MatrixXd>* lamOut, const WeightProducts* wpIn) {
  const int L = depth;
  const Eigen::Index R = C.rows(), d = net.inputSize;
  std::optional<WeightProducts> own;
  if (!wpIn) own.emplace(net);
  const WeightProducts& wp = wpIn ? *wpIn : *own;
  // The relaxed ReLUs: every ReLU layer below the top, and the top's if topRelu.
  auto relaxed = [&](int k) { return net.layers[k].relu && (k < L - 1 || topRelu); };
  auto bound = [&](const Slopes* a, std::vector<MatrixXd>* lo, const Splits* sp,
                   const Slopes* bp) {
    return topRelu ? outputLowerBound(net, box, nb, C, a, lo, sp, bp, &wp)
                   : preActivationLowerBound(net, L - 1, box, nb, C, a, lo, sp, bp, &wp);
  };
  if (L == 0 || R == 0) return bound(nullptr, lamOut, nullptr, nullptr);
  // Starting slopes: the caller's where sized right, else DeepPoly's 0/1 choice. Starting
  // multipliers: the caller's on split neurons where sized right, else 0.
  Slopes alpha(static_cast<size_t>(L)), beta;
  bool anyUnstable = false, anySplit = false;
  for (int k = 0; k < L; ++k) {
    if (!relaxed(k)) continue;
    const VectorXd& l = nb.lo[k];
    const VectorXd& u = nb.hi[k];
    const Eigen::Index n = l.size();
    if (alphaIO && static_cast<size_t>(k) < alphaIO->size() && (*alphaIO)[k].rows() == R &&
        (*alphaIO)[k].cols() == n) {
      alpha[k] = (*alphaIO)[k];
    } else {
      alpha[k].resize(R, n);
      for (Eigen::Index j = 0; j < n; ++j)
        alpha[k].col(j).setConstant(u[j] > -l[j] ? 1.0 : 0.0);
    }
    for (Eigen::Index j = 0; j < n; ++j) {
      if (l[j] < 0 && u[j] > 0) anyUnstable = true;
      if (betaIO && isSplit(splits, static_cast<size_t>(k), j)) anySplit = true;
    }
  }
  if (anySplit) {
    beta.resize(static_cast<size_t>(L));
    for (int k = 0; k < L; ++k) {
      if (!relaxed(k)) continue;
      const Eigen::Index n = nb.lo[k].size();
      const bool warm = static_cast<size_t>(k) < betaIO->size() && (*betaIO)[k].rows() == R &&
                        (*betaIO)[k].cols() == n;
      beta[k] = MatrixXd::Zero(R, n);
      for (Eigen::Index j = 0; j < n; ++j)
        if (warm && isSplit(splits, static_cast<size_t>(k), j))
          beta[k].col(j) = (*betaIO)[k].col(j).cwiseMax(0.0);
    }
  }
  const Splits* sp = anySplit ? &splits : nullptr;
  const Slopes* bp = anySplit ? &beta : nullptr;
  std::vector<MatrixXd> lam;
  LinearLower cur = bound(&alpha, &lam, sp, bp);
  if ((!anyUnstable && !anySplit) || opt.iterations <= 0) {
    if (alphaIO) *alphaIO = alpha;
    if (betaIO) *betaIO = beta;
    if (lamOut) *lamOut = std::move(lam);
    return cur;
  }
  Slopes bestA = alpha, bestB = beta;
  std::vector<Moments> ma(static_cast<size_t>(L)), mb(static_cast<size_t>(L));
  for (int k = 0; k < L; ++k) {
    if (alpha[k].size() > 0) ma[k] = {MatrixXd::Zero(R, alpha[k].cols()), MatrixXd::Zero(R, alpha[k].cols())};
    if (anySplit && beta[k].size() > 0)
      mb[k] = {MatrixXd::Zero(R, beta[k].cols()), MatrixXd::Zero(R, beta[k].cols())};
  }
  VectorXd bestLower = cur.lower;
  double p1 = 1.0, p2 = 1.0;
  MatrixXd Z, H;
  VectorXd rowScale;
  for (int it = 0; it < opt.iterations; ++it) {
    pollCancellation();
    // The forward pass of the adjoint: z^ from the minimising corner of each row.
    Z.resize(R, d);
    for (Eigen::Index r = 0; r < R; ++r)
      for (Eigen::Index i = 0; i < d; ++i)
        Z(r, i) = cur.A(r, i) > 0 ? box.lo[i] : box.hi[i];
    p1 *= 0.9;
    p2 *= 0.999;
    for (int k = 0; k < L; ++k) {
      const neural::AffineLayer& layer = net.layers[k];
      H = wp.rowsThrough(k, Z);
      H.rowwise() += layer.b.transpose();
      if (!relaxed(k)) {
        Z = H;
        continue;
      }
      const VectorXd& l = nb.lo[k];
      const VectorXd& u = nb.hi[k];
      const MatrixXd& Lk = lam[k];
      const bool splitLayer = anySplit && static_cast<size_t>(k) < splits.size() &&
                              !splits[k].empty();
      if (splitLayer) rowScale = Lk.cwiseAbs().rowwise().maxCoeff().cwiseMax(1e-6);
      Z.resize(R, l.size());
      for (Eigen::Index j = 0; j < l.size(); ++j) {
        if (splitLayer && isSplit(splits, static_cast<size_t>(k), j)) {
          const double s = splits[k][static_cast<size_t>(j)] > 0 ? 1.0 : -1.0;
          for (Eigen::Index r = 0; r < R; ++r) {
            const double g = -s * H(r, j); // dB_r / dbeta_rj
            const double step = adamStep(g, mb[k].m1(r, j), mb[k].m2(r, j), p1, p2);
            beta[k](r, j) = std::max(0.0, beta[k](r, j) + opt.betaLr * rowScale[r] * step);
          }
        }
        if (u[j] <= 0) {
          Z.col(j).setZero();
          continue;
        }
        if (l[j] >= 0) {
          Z.col(j) = H.col(j);
          continue;
        }
        const double s = u[j] / (u[j] - l[j]);
        for (Eigen::Index r = 0; r < R; ++r) {
          const double lr = Lk(r, j);
          if (lr < 0) {
            Z(r, j) = s * (H(r, j) - l[j]);
            continue;
          }
          const double a = std::clamp(alpha[k](r, j), 0.0, 1.0);
          Z(r, j) = a * H(r, j);
          const double g = lr * H(r, j); // dB_r / da_rj
          const double step = adamStep(g, ma[k].m1(r, j), ma[k].m2(r, j), p1, p2);
          alpha[k](r, j) = std::clamp(a + opt.lr * step, 0.0, 1.0);
        }
      }
    }
    cur = bound(&alpha, &lam, sp, bp);
    for (Eigen::Index r = 0; r < R; ++r)
      if (cur.lower[r] > bestLower[r]) {
        bestLower[r] = cur.lower[r];
        for (int k = 0; k < L; ++k) {
          if (bestA[k].size() > 0) bestA[k].row(r) = alpha[k].row(r);
          if (anySplit && bestB[k].size() > 0) bestB[k].row(r) = beta[k].row(r);
        }
      }
  }
  // The bound with the best values, computed afresh (rows are independent, so this is each
  // row's best bound seen).
  LinearLower out = bound(&bestA, lamOut, sp, anySplit ? &bestB : nullptr);
  if (alphaIO) *alphaIO = std::move(bestA);
  if (betaIO) *betaIO = std::move(bestB);
  return out;
}

/// One domain's state in betaCrownBounds (its values, moments and best values so far).
struct BatchDomain {
  const BetaCrownQuery* q = nullptr;
  Slopes alpha, beta, bestA, bestB;
  std::vector<Moments> ma, mb;
  std::vector<MatrixXd> lam;
  LinearLower cur;
  VectorXd bestLower;
  bool anySplit = false, anyUnstable = false;
  /// Every row's best bound is above the query's stopAbove entry.
  bool reached() const {
    const VectorXd* t = q->stopAbove;
    if (!t || t->size() != bestLower.size()) return false;
    for (Eigen::Index r = 0; r < bestLower.size(); ++r)
      if (!(bestLower[r] > (*t)[r])) return false;
    return true;
  }
  BoundQuery query(const Slopes& a, const Slopes& b, std::vector<MatrixXd>* lamOut) const {
    BoundQuery bq;
    bq.box = q->box;
    bq.nb = q->nb;
    bq.C = q->C;
    bq.alpha = &a;
    bq.lamOut = lamOut;
    bq.splits = anySplit ? q->splits : nullptr;
    bq.beta = anySplit ? &b : nullptr;
    return bq;
  }
};

} // namespace

std::vector<LinearLower> betaCrownBounds(const neural::AffineNet& net,
                                         const std::vector<BetaCrownQuery>& queries,
                                         const AlphaCrownOptions& opt,
                                         const WeightProducts* wpIn) {
  const int L = static_cast<int>(net.layers.size());
  const size_t Q = queries.size();
  std::vector<LinearLower> out(Q);
  if (Q == 0) return out;
  std::optional<WeightProducts> own;
  if (!wpIn) own.emplace(net);
  const WeightProducts& wp = wpIn ? *wpIn : *own;
  const Eigen::Index d = net.inputSize;
  // Starting values per domain, as optimisedBound's.
  std::vector<BatchDomain> ds(Q);
  for (size_t i = 0; i < Q; ++i) {
    BatchDomain& D = ds[i];
    D.q = &queries[i];
    const NetBounds& nb = *D.q->nb;
    const Eigen::Index R = D.q->C->rows();
    Slopes* alphaIO = D.q->alpha;
    Slopes* betaIO = D.q->beta;
    const Splits& splits = *D.q->splits;
    D.alpha.resize(static_cast<size_t>(L));
    for (int k = 0; k < L; ++k) {
      if (!net.layers[k].relu) continue;
      const VectorXd& l = nb.lo[k];
      const VectorXd& u = nb.hi[k];
      const Eigen::Index n = l.size();
      if (alphaIO && static_cast<size_t>(k) < alphaIO->size() && (*alphaIO)[k].rows() == R &&
          (*alphaIO)[k].cols() == n) {
        D.alpha[k] = (*alphaIO)[k];
      } else {
        D.alpha[k].resize(R, n);
        for (Eigen::Index j = 0; j < n; ++j)
          D.alpha[k].col(j).setConstant(u[j] > -l[j] ? 1.0 : 0.0);
      }
      for (Eigen::Index j = 0; j < n; ++j) {
        if (l[j] < 0 && u[j] > 0) D.anyUnstable = true;
        if (betaIO && isSplit(splits, static_cast<size_t>(k), j)) D.anySplit = true;
      }
    }
    if (D.anySplit) {
      D.beta.resize(static_cast<size_t>(L));
      for (int k = 0; k < L; ++k) {
        if (!net.layers[k].relu) continue;
        const Eigen::Index n = nb.lo[k].size();
        const bool warm = static_cast<size_t>(k) < betaIO->size() &&
                          (*betaIO)[k].rows() == R && (*betaIO)[k].cols() == n;
        D.beta[k] = MatrixXd::Zero(R, n);
        for (Eigen::Index j = 0; j < n; ++j)
          if (warm && isSplit(splits, static_cast<size_t>(k), j))
            D.beta[k].col(j) = (*betaIO)[k].col(j).cwiseMax(0.0);
      }
    }
  }
  {
    std::vector<BoundQuery> bq;
    for (BatchDomain& D : ds) bq.push_back(D.query(D.alpha, D.beta, &D.lam));
    std::vector<LinearLower> first = outputLowerBounds(net, bq, &wp);
    for (size_t i = 0; i < Q; ++i) ds[i].cur = std::move(first[i]);
  }
  // The domains that take steps; the others are done.
  std::vector<size_t> act;
  for (size_t i = 0; i < Q; ++i) {
    BatchDomain& D = ds[i];
    const Eigen::Index R = D.q->C->rows();
    if (L > 0 && R > 0 && (D.anyUnstable || D.anySplit) && opt.iterations > 0) {
      act.push_back(i);
      continue;
    }
    if (D.q->alpha) *D.q->alpha = D.alpha;
    if (D.q->beta) *D.q->beta = D.beta;
    if (D.q->lamOut) *D.q->lamOut = std::move(D.lam);
    out[i] = std::move(D.cur);
  }
  if (act.empty()) return out;
  for (size_t a = 0; a < act.size(); ++a) {
    BatchDomain& D = ds[act[a]];
    const Eigen::Index R = D.q->C->rows();
    D.bestA = D.alpha;
    D.bestB = D.beta;
    D.ma.resize(static_cast<size_t>(L));
    D.mb.resize(static_cast<size_t>(L));
    for (int k = 0; k < L; ++k) {
      if (D.alpha[k].size() > 0)
        D.ma[k] = {MatrixXd::Zero(R, D.alpha[k].cols()), MatrixXd::Zero(R, D.alpha[k].cols())};
      if (D.anySplit && D.beta[k].size() > 0)
        D.mb[k] = {MatrixXd::Zero(R, D.beta[k].cols()), MatrixXd::Zero(R, D.beta[k].cols())};
    }
    D.bestLower = D.cur.lower;
  }
  // `fin`: every domain that took steps (its bound is recomputed with its best values at the
  // end); `act`: those still stepping (a domain leaves once its rows have reached stopAbove).
  const std::vector<size_t> fin = act;
  std::vector<Eigen::Index> off;
  double p1 = 1.0, p2 = 1.0;
  MatrixXd Z, H;
  VectorXd rowScale;
  std::vector<BoundQuery> bq;
  for (int it = 0; it < opt.iterations; ++it) {
    pollCancellation();
    act.erase(std::remove_if(act.begin(), act.end(), [&](size_t i) { return ds[i].reached(); }),
              act.end());
    if (act.empty()) break;
    off.assign(act.size() + 1, 0);
    for (size_t a = 0; a < act.size(); ++a) off[a + 1] = off[a] + ds[act[a]].q->C->rows();
    const Eigen::Index RT = off.back();
    bq.resize(act.size());
    // The forward pass of the adjoint, every domain's rows stacked: z^ from each row's
    // minimising corner of its domain's box.
    Z.resize(RT, d);
    for (size_t a = 0; a < act.size(); ++a) {
      const BatchDomain& D = ds[act[a]];
      for (Eigen::Index r = 0; r < D.cur.A.rows(); ++r)
        for (Eigen::Index i = 0; i < d; ++i)
          Z(off[a] + r, i) = D.cur.A(r, i) > 0 ? D.q->box->lo[i] : D.q->box->hi[i];
    }
    p1 *= 0.9;
    p2 *= 0.999;
    for (int k = 0; k < L; ++k) {
      const neural::AffineLayer& layer = net.layers[k];
      H = wp.rowsThrough(k, Z);
      H.rowwise() += layer.b.transpose();
      if (!layer.relu) {
        Z = H;
        continue;
      }
      Z.resize(RT, H.cols());
      for (size_t a = 0; a < act.size(); ++a) {
        BatchDomain& D = ds[act[a]];
        const Eigen::Index o = off[a], R = off[a + 1] - off[a];
        const Splits& splits = *D.q->splits;
        const VectorXd& l = D.q->nb->lo[k];
        const VectorXd& u = D.q->nb->hi[k];
        const MatrixXd& Lk = D.lam[k];
        const bool splitLayer =
            D.anySplit && static_cast<size_t>(k) < splits.size() && !splits[k].empty();
        if (splitLayer) rowScale = Lk.cwiseAbs().rowwise().maxCoeff().cwiseMax(1e-6);
        for (Eigen::Index j = 0; j < l.size(); ++j) {
          if (splitLayer && isSplit(splits, static_cast<size_t>(k), j)) {
            const double s = splits[k][static_cast<size_t>(j)] > 0 ? 1.0 : -1.0;
            for (Eigen::Index r = 0; r < R; ++r) {
              const double g = -s * H(o + r, j); // dB_r / dbeta_rj
              const double step = adamStep(g, D.mb[k].m1(r, j), D.mb[k].m2(r, j), p1, p2);
              D.beta[k](r, j) =
                  std::max(0.0, D.beta[k](r, j) + opt.betaLr * rowScale[r] * step);
            }
          }
          if (u[j] <= 0) {
            Z.col(j).segment(o, R).setZero();
            continue;
          }
          if (l[j] >= 0) {
            Z.col(j).segment(o, R) = H.col(j).segment(o, R);
            continue;
          }
          const double s = u[j] / (u[j] - l[j]);
          for (Eigen::Index r = 0; r < R; ++r) {
            const double lr = Lk(r, j);
            if (lr < 0) {
              Z(o + r, j) = s * (H(o + r, j) - l[j]);
              continue;
            }
            const double av = std::clamp(D.alpha[k](r, j), 0.0, 1.0);
            Z(o + r, j) = av * H(o + r, j);
            const double g = lr * H(o + r, j); // dB_r / da_rj
            const double step = adamStep(g, D.ma[k].m1(r, j), D.ma[k].m2(r, j), p1, p2);
            D.alpha[k](r, j) = std::clamp(av + opt.lr * step, 0.0, 1.0);
          }
        }
      }
    }
    for (size_t a = 0; a < act.size(); ++a) {
      BatchDomain& D = ds[act[a]];
      bq[a] = D.query(D.alpha, D.beta, &D.lam);
    }
    std::vector<LinearLower> step = outputLowerBounds(net, bq, &wp);
    for (size_t a = 0; a < act.size(); ++a) {
      BatchDomain& D = ds[act[a]];
      D.cur = std::move(step[a]);
      for (Eigen::Index r = 0; r < D.cur.lower.size(); ++r)
        if (D.cur.lower[r] > D.bestLower[r]) {
          D.bestLower[r] = D.cur.lower[r];
          for (int k = 0; k < L; ++k) {
            if (D.bestA[k].size() > 0) D.bestA[k].row(r) = D.alpha[k].row(r);
            if (D.anySplit && D.bestB[k].size() > 0) D.bestB[k].row(r) = D.beta[k].row(r);
          }
        }
    }
  }
  // The bounds with the best values, computed afresh (each row's best bound seen).
  bq.resize(fin.size());
  for (size_t a = 0; a < fin.size(); ++a) {
    BatchDomain& D = ds[fin[a]];
    bq[a] = D.query(D.bestA, D.bestB, D.q->lamOut);
  }
  std::vector<LinearLower> last = outputLowerBounds(net, bq, &wp);
  for (size_t a = 0; a < fin.size(); ++a) {
    BatchDomain& D = ds[fin[a]];
    out[fin[a]] = std::move(last[a]);
    if (D.q->alpha) *D.q->alpha = std::move(D.bestA);
    if (D.q->beta) *D.q->beta = std::move(D.bestB);
  }
  return out;
}

LinearLower betaCrownBound(const neural::AffineNet& net, const Box& box, const NetBounds& nb,
                           const MatrixXd& C, const Splits& splits, const AlphaCrownOptions& opt,
                           Slopes* alphaIO, Slopes* betaIO, std::vector<MatrixXd>* lamOut,
                           const WeightProducts* wp) {
  return optimisedBound(net, static_cast<int>(net.layers.size()), true, box, nb, C, splits, opt,
                        alphaIO, betaIO, lamOut, wp);
}

LinearLower alphaCrownPreActivationBound(const neural::AffineNet& net, int k, const Box& box,
                                         const NetBounds& nb, const MatrixXd& C,
                                         const AlphaCrownOptions& opt, const WeightProducts* wp) {
  return optimisedBound(net, k + 1, false, box, nb, C, Splits{}, opt, nullptr, nullptr, nullptr,
                        wp);
}

int tightenLayerByAlphaCrown(const neural::AffineNet& net, const Box& box, NetBounds& nb, int k,
                             const AlphaCrownOptions& opt, const WeightProducts* wp) {
  std::vector<Eigen::Index> rows;
  for (Eigen::Index j = 0; j < nb.lo[k].size(); ++j)
    if (nb.lo[k][j] < 0 && nb.hi[k][j] > 0) rows.push_back(j);
  if (rows.empty()) return 0;
  const Eigen::Index n = static_cast<Eigen::Index>(rows.size());
  MatrixXd C = MatrixXd::Zero(2 * n, nb.lo[k].size());
  for (Eigen::Index i = 0; i < n; ++i) {
    C(i, rows[static_cast<size_t>(i)]) = 1.0;
    C(n + i, rows[static_cast<size_t>(i)]) = -1.0;
  }
  const LinearLower b = alphaCrownPreActivationBound(net, k, box, nb, C, opt, wp);
  int tighter = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const Eigen::Index j = rows[static_cast<size_t>(i)];
    const double lo = std::max(nb.lo[k][j], b.lower[i]);
    const double hi = std::min(nb.hi[k][j], -b.lower[n + i]);
    if (lo > nb.lo[k][j] || hi < nb.hi[k][j]) ++tighter;
    nb.lo[k][j] = lo;
    nb.hi[k][j] = hi;
    if (lo > hi) nb.infeasible = true;
  }
  return tighter;
}

int tightenLayersByAlphaCrown(const neural::AffineNet& net, const Box& box, NetBounds& nb,
                              const AlphaCrownOptions& opt, const WeightProducts* wp) {
  int tighter = 0;
  for (int k = 1; k < static_cast<int>(net.layers.size()) && !nb.infeasible; ++k)
    if (net.layers[k].relu) tighter += tightenLayerByAlphaCrown(net, box, nb, k, opt, wp);
  return tighter;
}

NetBounds subdomainBounds(const neural::AffineNet& net, const Box& box, const NetBounds& parent,
                          const Splits& splits, int firstLayer, const WeightProducts* wp) {
  NetBounds nb = parent;
  for (size_t k = 0; k < splits.size() && k < nb.lo.size() && !nb.infeasible; ++k)
    for (size_t j = 0; j < splits[k].size(); ++j) {
      const Eigen::Index jj = static_cast<Eigen::Index>(j);
      if (jj >= nb.lo[k].size()) break;
      if (splits[k][j] > 0) nb.lo[k][jj] = std::max(nb.lo[k][jj], 0.0);
      if (splits[k][j] < 0) nb.hi[k][jj] = std::min(nb.hi[k][jj], 0.0);
      if (nb.lo[k][jj] > nb.hi[k][jj]) nb.infeasible = true;
    }
  AlphaCrownOptions crown;
  crown.iterations = 0; // DeepPoly's slopes: one back-substitution per layer
  const int L = static_cast<int>(net.layers.size());
  for (int k = std::max(1, firstLayer); k < L && !nb.infeasible; ++k)
    if (net.layers[k].relu) tightenLayerByAlphaCrown(net, box, nb, k, crown, wp);
  return nb;
}

} // namespace chassis::verifier
