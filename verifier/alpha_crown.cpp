// alpha-CROWN slope optimisation (see alpha_crown.h for the maths).
#include "verifier/alpha_crown.h"
#include "verifier/cancellation.h"

#include <algorithm>
#include <cmath>

namespace chassis::verifier {

using Eigen::MatrixXd;
using Eigen::VectorXd;

LinearLower alphaCrownBound(const neural::AffineNet& net, const Box& box, const NetBounds& nb,
                            const MatrixXd& C, const AlphaCrownOptions& opt, Slopes* alphaIO,
                            std::vector<MatrixXd>* lamOut) {
  const int L = static_cast<int>(net.layers.size());
  const Eigen::Index R = C.rows(), d = net.inputSize;
  if (L == 0 || R == 0) return outputLowerBound(net, box, nb, C, nullptr, lamOut);
  // Starting slopes: the caller's where sized right, else DeepPoly's 0/1 choice.
  Slopes alpha(static_cast<size_t>(L));
  bool anyUnstable = false;
  for (int k = 0; k < L; ++k) {
    if (!net.layers[k].relu) continue;
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
    for (Eigen::Index j = 0; j < n; ++j)
      if (l[j] < 0 && u[j] > 0) anyUnstable = true;
  }
  std::vector<MatrixXd> lam;
  LinearLower cur = outputLowerBound(net, box, nb, C, &alpha, &lam);
  if (!anyUnstable || opt.iterations <= 0) {
    if (alphaIO) *alphaIO = alpha;
    if (lamOut) *lamOut = std::move(lam);
    return cur;
  }
  Slopes best = alpha, m1(static_cast<size_t>(L)), m2(static_cast<size_t>(L));
  for (int k = 0; k < L; ++k)
    if (alpha[k].size() > 0) {
      m1[k] = MatrixXd::Zero(R, alpha[k].cols());
      m2[k] = MatrixXd::Zero(R, alpha[k].cols());
    }
  VectorXd bestLower = cur.lower;
  const double b1 = 0.9, b2 = 0.999;
  double p1 = 1.0, p2 = 1.0;
  MatrixXd Z, H;
  for (int it = 0; it < opt.iterations; ++it) {
    pollCancellation();
    // The forward pass of the adjoint: z^ from the minimising corner of each row.
    Z.resize(R, d);
    for (Eigen::Index r = 0; r < R; ++r)
      for (Eigen::Index i = 0; i < d; ++i)
        Z(r, i) = cur.A(r, i) > 0 ? box.lo[i] : box.hi[i];
    p1 *= b1;
    p2 *= b2;
    for (int k = 0; k < L; ++k) {
      const neural::AffineLayer& layer = net.layers[k];
      H = timesWeights(Z, layer.W.transpose());
      H.rowwise() += layer.b.transpose();
      if (!layer.relu) {
        Z = H;
        continue;
      }
      const VectorXd& l = nb.lo[k];
      const VectorXd& u = nb.hi[k];
      const MatrixXd& Lk = lam[k];
      Z.resize(R, l.size());
      for (Eigen::Index j = 0; j < l.size(); ++j) {
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
          double& mm = m1[k](r, j);
          double& vv = m2[k](r, j);
          mm = b1 * mm + (1 - b1) * g;
          vv = b2 * vv + (1 - b2) * g * g;
          const double step = (mm / (1 - p1)) / (std::sqrt(vv / (1 - p2)) + 1e-12);
          alpha[k](r, j) = std::clamp(a + opt.lr * step, 0.0, 1.0);
        }
      }
    }
    cur = outputLowerBound(net, box, nb, C, &alpha, &lam);
    for (Eigen::Index r = 0; r < R; ++r)
      if (cur.lower[r] > bestLower[r]) {
        bestLower[r] = cur.lower[r];
        for (int k = 0; k < L; ++k)
          if (best[k].size() > 0) best[k].row(r) = alpha[k].row(r);
      }
  }
  // The bound with the best slopes, computed afresh (rows are independent, so this is each
  // row's best bound seen).
  LinearLower out = outputLowerBound(net, box, nb, C, &best, lamOut);
  if (alphaIO) *alphaIO = std::move(best);
  return out;
}

} // namespace chassis::verifier
