// Forward symbolic interval propagation (see nv_forward.h).
//
// Maths. Write x~ = (x, 1) for an input x of the box [lo, hi] and |x~| <= xm componentwise
// (xm_c = max(|lo_c|, |hi_c|), xm_d = 1). The input of layer k is enclosed by
//   ZL x~ - eZL <= z(x) <= ZU x~ + eZU          (rows: neurons; ZL x~ in REAL arithmetic)
// (layer 0: ZL = ZU = [I | 0], eZL = eZU = 0). With W = W+ + W- (positive and negative parts),
//   h = W z + b >= (W+ ZL + W- ZU + [0|b]) x~ - (W+ eZL + |W-| eZU)  =: HL x~ - eHL,
// and symmetrically for HU. Concretised over the box, l = min HL x~ - eHL, u = max HU x~ + eHU.
// A ReLU neuron is inactive (u <= 0: z = 0), active (l >= 0: z = h) or unstable. Unstable:
//  - upper side: with U~ = HU x~ + eHU in [lU, uU] on the box (lU = min HU x~, uU = u),
//    relu(h) <= relu(U~) <= s (U~ - lU), s = uU / (uU - lU) (the chord; if lU >= 0, just U~);
//  - lower side: relu(h) >= relu(HL x~ - eHL) >= lambda (HL x~ - eHL) for ANY lambda in [0, 1]
//    (lambda t <= relu(t) for every t), lambda by LowerSlope; z >= 0 (lambda = 0) when even the
//    largest value of HL x~ is <= 0.
// A constant offset such as -s lU is carried in the allowance eZU, not in the constant column:
// both are exact, since e is only ever added to an upper side (subtracted from a lower side).
//
// Rounding. Coefficients are computed in float64; the real-arithmetic function with the
// COMPUTED coefficients is what the enclosure claims, plus the allowance. By the dot-product
// bound (Higham, Thm 3.5) a coefficient of W+ ZL + W- ZU + b (2m + 1 terms, any order, FMA or
// not) errs by at most gamma_{2m+1} times the sum of the terms' magnitudes, so the function at x
// errs by at most gamma_{2m+1} (|W| ((|ZL| + |ZU|) xm) + |b|). Scaling a row by s or lambda
// (one rounding per coefficient) errs by u |scaled row| xm; the rounded chord slope s~ undercuts
// the chord by at most 2u uU (covered by adding 4u uU). Allowances are sums of nonnegative
// terms computed in float64, so each is multiplied by (1 + 2 gamma) and raised by 1e-290
// (underflow) to stay an upper bound of its real value. Concretisation (d + 2 terms) subtracts
// gamma_{d+2} |row| xm. gamma'_n = 2 (n + 2) u > gamma_n as in bounds.cpp.
#include "verifier/nv_forward.h"
#include "verifier/cancellation.h"

#include <algorithm>
#include <cmath>

namespace chassis::verifier {
namespace {

constexpr double kUnit = 1.1102230246251565e-16; // 2^-53
constexpr double kTiny = 1e-290;

double gammaN(Eigen::Index n) {
  return 2.0 * static_cast<double>(n + 2) * kUnit;
}

} // namespace

ForwardWeights::ForwardWeights(const neural::AffineNet& net, bool sparseLayers) : net_(net) {
  const size_t L = net.layers.size();
  Wpn_.resize(L);
  Wpa_.resize(L);
  sWpn_.resize(L);
  sWpa_.resize(L);
  sWr_.resize(L);
  sW_.resize(L);
  babs_.resize(L);
  for (size_t k = 0; k < L; ++k) {
    const auto& W = net.layers[k].W;
    const Eigen::Index n = W.rows(), m = W.cols();
    babs_[k] = net.layers[k].b.cwiseAbs();
    const Eigen::Index nnz = W.size() >= 4096 ? (W.array() != 0.0).count() : W.size();
    if (sparseLayers && nnz > 0 && 10 * nnz < W.size()) {
      // Straight from W's non-zeros: W by columns, then by rows (sorted), then each row's
      // positive entries at their column j and its negative ones at m + j, in increasing column
      // order: the same entries, in the same order, as the compressed copies of the dense
      // [W+ | W-] and [W+ | |W-|] (so the products are the same sums).
      sW_[k] = W.sparseView(0.0, 0.0);
      sW_[k].makeCompressed();
      sWr_[k] = sW_[k];
      sWr_[k].makeCompressed();
      const RowSparse& R = sWr_[k];
      for (RowSparse* M : {&sWpn_[k], &sWpa_[k]}) {
        M->resize(n, 2 * m);
        M->resizeNonZeros(R.nonZeros());
      }
      Eigen::Index at = 0;
      auto* opn = sWpn_[k].outerIndexPtr();
      auto* opa = sWpa_[k].outerIndexPtr();
      auto* ipn = sWpn_[k].innerIndexPtr();
      auto* ipa = sWpa_[k].innerIndexPtr();
      double* vpn = sWpn_[k].valuePtr();
      double* vpa = sWpa_[k].valuePtr();
      for (Eigen::Index i = 0; i < n; ++i) {
        opn[i] = opa[i] = static_cast<RowSparse::StorageIndex>(at);
        for (int pass = 0; pass < 2; ++pass)
          for (RowSparse::InnerIterator it(R, i); it; ++it) {
            const double w = it.value();
            if (pass == 0 ? !(w > 0.0) : !(w < 0.0)) continue;
            const auto col = static_cast<RowSparse::StorageIndex>(it.index() + (pass ? m : 0));
            ipn[at] = ipa[at] = col;
            vpn[at] = w;
            vpa[at] = pass ? -w : w;
            ++at;
          }
      }
      opn[n] = opa[n] = static_cast<RowSparse::StorageIndex>(at);
      // (A NaN weight is neither > 0 nor < 0: toAffineNet refuses those, so at == nnz here.)
      sWpn_[k].resizeNonZeros(at);
      sWpa_[k].resizeNonZeros(at);
      continue;
    }
    Wpn_[k].resize(n, 2 * m);
    Wpn_[k] << W.cwiseMax(0.0), W.cwiseMin(0.0);
    Wpa_[k].resize(n, 2 * m);
    Wpa_[k] << W.cwiseMax(0.0), -W.cwiseMin(0.0);
  }
}

void ForwardWeights::buildDenseCopies() const {
  const size_t L = net_.layers.size();
  dWr_.resize(L);
  dWc_.resize(L);
  for (size_t k = 0; k < L; ++k) {
    if (sparse(k)) continue;
    dWc_[k] = net_.layers[k].W.sparseView(0.0, 0.0);
    dWc_[k].makeCompressed();
    dWr_[k] = dWc_[k];
    dWr_[k].makeCompressed();
  }
}

const ForwardWeights::RowSparse& ForwardWeights::rows(size_t k) const {
  if (sparse(k)) return sWr_[k];
  std::call_once(denseCopiesOnce_, [this] { buildDenseCopies(); });
  return dWr_[k];
}

const ForwardWeights::ColSparse& ForwardWeights::cols(size_t k) const {
  if (sparse(k)) return sW_[k];
  std::call_once(denseCopiesOnce_, [this] { buildDenseCopies(); });
  return dWc_[k];
}

ForwardBounder::ForwardBounder(const neural::AffineNet& net, LowerSlope slope)
    : ForwardBounder(std::make_shared<const ForwardWeights>(net), slope) {}

ForwardBounder::ForwardBounder(std::shared_ptr<const ForwardWeights> weights, LowerSlope slope)
    : w_(std::move(weights)), net_(w_->net()), slope_(slope), d_(net_.inputSize) {
  const size_t L = net_.layers.size();
  HL_.resize(L);
  HU_.resize(L);
  eHL_.resize(L);
  eHU_.resize(L);
  for (size_t k = 0; k < L; ++k) {
    const Eigen::Index n = net_.layers[k].W.rows();
    HL_[k].resize(n, d_ + 1);
    HU_[k].resize(n, d_ + 1);
    eHL_[k].resize(n);
    eHU_[k].resize(n);
  }
  xm_.resize(d_ + 1);
}

void ForwardBounder::bound(const Box& box, NetBounds& nb, const NetBounds* prior) {
  const int L = static_cast<int>(net_.layers.size());
  const int d = d_;
  nb.infeasible = false;
  nb.lo.resize(L);
  nb.hi.resize(L);
  for (int c = 0; c < d; ++c)
    xm_[c] = std::max(std::fabs(box.lo[c]), std::fabs(box.hi[c]));
  xm_[d] = 1.0;
  // Layer 0's input: the identity.
  ZL_.setZero(d, d + 1);
  ZL_.leftCols(d).setIdentity();
  ZU_ = ZL_;
  eZL_.setZero(d);
  eZU_.setZero(d);

  // min and max over the box of row i of H x~ (without rounding allowance).
  auto rowMin = [&](const Eigen::MatrixXd& H, Eigen::Index i) {
    double s = H(i, d);
    for (int c = 0; c < d; ++c) {
      double a = H(i, c);
      s += a > 0 ? a * box.lo[c] : a * box.hi[c];
    }
    return s;
  };
  auto rowMax = [&](const Eigen::MatrixXd& H, Eigen::Index i) {
    double s = H(i, d);
    for (int c = 0; c < d; ++c) {
      double a = H(i, c);
      s += a > 0 ? a * box.hi[c] : a * box.lo[c];
    }
    return s;
  };
  auto rowAbs = [&](const Eigen::MatrixXd& H, Eigen::Index i) { // |row| . xm
    double s = 0;
    for (int c = 0; c <= d; ++c)
      s += std::fabs(H(i, c)) * xm_[c];
    return s;
  };
  const double gConc = gammaN(d + 2);

  for (int k = 0; k < L; ++k) {
    const auto& layer = net_.layers[k];
    const Eigen::Index n = layer.W.rows(), m = layer.W.cols();
    Eigen::MatrixXd& HL = HL_[k];
    Eigen::MatrixXd& HU = HU_[k];
    Eigen::VectorXd& eHL = eHL_[k];
    Eigen::VectorXd& eHU = eHU_[k];
    // [HL | HU] = [W+ | W-] [[ZL, ZU], [ZU, ZL]]  (the bias added below).
    Zs_.resize(2 * m, 2 * (d + 1));
    Zs_.topLeftCorner(m, d + 1) = ZL_;
    Zs_.topRightCorner(m, d + 1) = ZU_;
    Zs_.bottomLeftCorner(m, d + 1) = ZU_;
    Zs_.bottomRightCorner(m, d + 1) = ZL_;
    // (Sparse or dense: only exact zero products differ, the rounding bounds are the same.)
    if (w_->sparse(k)) H_ = w_->sWpn_[k] * Zs_;
    else H_.noalias() = w_->Wpn_[k] * Zs_;
    HL = H_.leftCols(d + 1);
    HU = H_.rightCols(d + 1);
    HL.col(d) += layer.b;
    HU.col(d) += layer.b;
    // Allowances: [eHL eHU rnd] = [W+ | |W-|] [[eZL, eZU, t], [eZU, eZL, t]] with
    // t = (|ZL| + |ZU|) xm, so that rnd = |W| t (the coefficients' rounding, before gamma).
    absZ_ = ZL_.cwiseAbs();
    absZ_ += ZU_.cwiseAbs();
    tmp_.noalias() = absZ_ * xm_;
    Es_.resize(2 * m, 3);
    Es_.col(0) << eZL_, eZU_;
    Es_.col(1) << eZU_, eZL_;
    Es_.col(2) << tmp_, tmp_;
    if (w_->sparse(k)) Eh_ = w_->sWpa_[k] * Es_;
    else Eh_.noalias() = w_->Wpa_[k] * Es_;
    const double g = gammaN(2 * m + 1), grow = 1.0 + 2.0 * gammaN(2 * m + 2);
    // (Eh_.col(2) sums each |W_ij| t_j once: W+ and |W-| are never both nonzero.)
    tmp_ = g * (Eh_.col(2) + w_->babs_[k]);
    eHL = ((Eh_.col(0) + tmp_) * grow).array() + kTiny;
    eHU = ((Eh_.col(1) + tmp_) * grow).array() + kTiny;

    Eigen::VectorXd& lo = nb.lo[k];
    Eigen::VectorXd& hi = nb.hi[k];
    lo.resize(n);
    hi.resize(n);
    // The prior's bounds of this layer, when it has them (same shape).
    const bool usePrior = prior != nullptr && prior->lo.size() == static_cast<size_t>(L) &&
                          prior->lo[k].size() == n && prior->hi[k].size() == n;
    if (!layer.relu) {
      for (Eigen::Index i = 0; i < n; ++i) {
        lo[i] = rowMin(HL, i) - eHL[i] - gConc * (rowAbs(HL, i) + eHL[i]) - kTiny;
        hi[i] = rowMax(HU, i) + eHU[i] + gConc * (rowAbs(HU, i) + eHU[i]) + kTiny;
        if (usePrior) {
          lo[i] = std::max(lo[i], prior->lo[k][i]);
          hi[i] = std::min(hi[i], prior->hi[k][i]);
        }
      }
      if (k + 1 < L) {
        ZL_ = HL;
        ZU_ = HU;
        eZL_ = eHL;
        eZU_ = eHU;
      }
      continue;
    }
    ZL_.resize(n, d + 1);
    ZU_.resize(n, d + 1);
    eZL_.resize(n);
    eZU_.resize(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const double rL = gConc * (rowAbs(HL, i) + eHL[i]) + kTiny;
      const double rU = gConc * (rowAbs(HU, i) + eHU[i]) + kTiny;
      double l = rowMin(HL, i) - eHL[i] - rL;
      double u = rowMax(HU, i) + eHU[i] + rU;
      if (usePrior) { // both hold on the box: so does their intersection
        l = std::max(l, prior->lo[k][i]);
        u = std::min(u, prior->hi[k][i]);
      }
      lo[i] = l;
      hi[i] = u;
      if (u <= 0) { // inactive
        ZL_.row(i).setZero();
        ZU_.row(i).setZero();
        eZL_[i] = eZU_[i] = 0.0;
        continue;
      }
      if (l >= 0) { // active
        ZL_.row(i) = HL.row(i);
        ZU_.row(i) = HU.row(i);
        eZL_[i] = eHL[i];
        eZU_[i] = eHU[i];
        continue;
      }
      // Upper side (U~ >= h >= l: l bounds U~ from below too, and may be the tighter, from a
      // prior).
      const double lU = std::max(rowMin(HU, i) - rU, l);
      if (lU >= 0) {
        ZU_.row(i) = HU.row(i);
        eZU_[i] = eHU[i];
      } else {
        const double s = u / (u - lU);
        ZU_.row(i) = s * HU.row(i);
        eZU_[i] =
            (s * (eHU[i] - lU) + 4.0 * kUnit * u + kUnit * rowAbs(ZU_, i)) * (1.0 + 8.0 * kUnit) +
            kTiny;
      }
      // Lower side.
      const double uL = rowMax(HL, i) + rL;
      double lambda = 0.0;
      if (uL > 0) {
        if (slope_ == LowerSlope::Area)
          lambda = u > -l ? 1.0 : 0.0;
        else
          lambda = std::min(1.0, uL / (uL - l));
      }
      if (lambda == 0.0) {
        ZL_.row(i).setZero();
        eZL_[i] = 0.0;
      } else if (lambda == 1.0) {
        ZL_.row(i) = HL.row(i);
        eZL_[i] = eHL[i];
      } else {
        ZL_.row(i) = lambda * HL.row(i);
        eZL_[i] = (lambda * eHL[i] + kUnit * rowAbs(ZL_, i)) * (1.0 + 8.0 * kUnit) + kTiny;
      }
    }
  }
}

void ForwardBounder::outputLower(const Box& box, const Eigen::MatrixXd& C, LinearLower& out) const {
  const int L = static_cast<int>(net_.layers.size());
  const int d = d_;
  const Eigen::Index rows = C.rows();
  out.A.resize(rows, d);
  out.c.resize(rows);
  out.lower.resize(rows);
  if (L == 0) { // identity network: C x exactly
    for (Eigen::Index r = 0; r < rows; ++r) {
      double v = 0, a = 0;
      for (int c = 0; c < d; ++c) {
        double w = C(r, c);
        out.A(r, c) = w;
        v += w > 0 ? w * box.lo[c] : w * box.hi[c];
        a += std::fabs(w) * xm_[c];
      }
      out.c[r] = 0;
      out.lower[r] = v - gammaN(d + 1) * a - kTiny;
    }
    return;
  }
  const Eigen::MatrixXd& HL = HL_[L - 1];
  const Eigen::MatrixXd& HU = HU_[L - 1];
  const Eigen::VectorXd& eHL = eHL_[L - 1];
  const Eigen::VectorXd& eHU = eHU_[L - 1];
  const Eigen::Index n = HL.rows();
  const double g = gammaN(2 * n + 1), grow = 1.0 + 2.0 * gammaN(2 * n + 2);
  double row[64];
  std::vector<double> big;
  double* a = row;
  if (d + 1 > 64) {
    big.resize(d + 1);
    a = big.data();
  }
  for (Eigen::Index r = 0; r < rows; ++r) {
    for (int c = 0; c <= d; ++c)
      a[c] = 0.0;
    double err = 0, mag = 0;
    for (Eigen::Index j = 0; j < n; ++j) {
      double w = C(r, j);
      if (w == 0) continue;
      const Eigen::MatrixXd& H = w > 0 ? HL : HU;
      for (int c = 0; c <= d; ++c)
        a[c] += w * H(j, c);
      err += std::fabs(w) * (w > 0 ? eHL[j] : eHU[j]);
      double s = 0;
      for (int c = 0; c <= d; ++c)
        s += std::fabs(H(j, c)) * xm_[c];
      mag += std::fabs(w) * s;
    }
    err = (err + g * mag) * grow + kTiny;
    double v = a[d], absA = std::fabs(a[d]);
    for (int c = 0; c < d; ++c) {
      out.A(r, c) = a[c];
      v += a[c] > 0 ? a[c] * box.lo[c] : a[c] * box.hi[c];
      absA += std::fabs(a[c]) * xm_[c];
    }
    // The allowance holds real offsets of the relaxations, not only rounding: fold it into
    // the constant so that A x + c is itself a pointwise lower bound (up to rounding).
    out.c[r] = a[d] - err - gammaN(d + 2) * (std::fabs(a[d]) + err) - kTiny;
    out.lower[r] = v - err - gammaN(d + 2) * (absA + err) - kTiny;
  }
}

void ForwardBounder::gradientSmear(const Box& box, const NetBounds& nb, const Eigen::RowVectorXd& c,
                                   Eigen::VectorXd& smear) {
  const int L = static_cast<int>(net_.layers.size());
  gl_ = c.transpose();
  gu_ = gl_;
  for (int k = L - 1; k >= 0; --k) {
    const Eigen::MatrixXd& W = net_.layers[k].W;
    const Eigen::Index n = W.rows(), m = W.cols();
    nl_.setZero(m);
    nu_.setZero(m);
    const auto& S = w_->sW_[static_cast<size_t>(k)];
    if (S.nonZeros() > 0) { // the same sums over W's non-zeros only (a zero adds 0 to both)
      for (Eigen::Index j = 0; j < m; ++j) {
        double lo = 0, hi = 0;
        for (Eigen::SparseMatrix<double>::InnerIterator it(S, j); it; ++it) {
          const double w = it.value(), a = gl_[it.index()] * w, b = gu_[it.index()] * w;
          lo += std::min(a, b);
          hi += std::max(a, b);
        }
        nl_[j] = lo;
        nu_[j] = hi;
      }
    } else {
      for (Eigen::Index j = 0; j < m; ++j) { // [gl, gu]^T W, column by column
        double lo = 0, hi = 0;
        for (Eigen::Index i = 0; i < n; ++i) {
          const double w = W(i, j), a = gl_[i] * w, b = gu_[i] * w;
          lo += std::min(a, b);
          hi += std::max(a, b);
        }
        nl_[j] = lo;
        nu_[j] = hi;
      }
    }
    if (k > 0 && net_.layers[k - 1].relu) {
      for (Eigen::Index j = 0; j < m; ++j) {
        const double l = nb.lo[k - 1][j], u = nb.hi[k - 1][j];
        if (u <= 0) {
          nl_[j] = nu_[j] = 0.0;
        } else if (l < 0) {
          nl_[j] = std::min(0.0, nl_[j]);
          nu_[j] = std::max(0.0, nu_[j]);
        }
      }
    }
    gl_.swap(nl_);
    gu_.swap(nu_);
  }
  for (Eigen::Index i = 0; i < smear.size() && i < gl_.size(); ++i)
    smear[i] += (gu_[i] - gl_[i]) * (box.hi[i] - box.lo[i]);
}

} // namespace chassis::verifier

namespace chassis::verifier {

bool ForwardBounder::hasSparseLayer() const {
  for (size_t k = 0; k < net_.layers.size(); ++k)
    if (w_->sparse(k)) return true;
  return false;
}

// The maths and the rounding allowances are bounds.cpp's (backSubstitute, relaxLayer,
// boxMinimum), term for term: every gamma keeps the FULL layer's size, and a term skipped here
// is one whose factor is an exact zero there (a column of the objective that is zero, a weight
// that is zero), so each sum has the same non-zero terms, summed in another order, which the
// dot-product bound does not depend on.
void ForwardBounder::refine(const Box& box, NetBounds& nb) {
  using Eigen::MatrixXd;
  using Eigen::VectorXd;
  const int L = static_cast<int>(net_.layers.size());
  vk_.assign(static_cast<size_t>(L), VectorXd());
  const VectorXd boxAbs = box.lo.cwiseAbs().cwiseMax(box.hi.cwiseAbs());
  // Largest |value| of layer k's output z_k (k = -1: the input box), as bounds.cpp's zAbsMax.
  auto zAbs = [&](int k) -> VectorXd {
    if (k < 0) return boxAbs;
    if (net_.layers[k].relu) return nb.hi[k].cwiseMax(0.0);
    return nb.lo[k].cwiseAbs().cwiseMax(nb.hi[k].cwiseAbs());
  };
  // |W_k| zAbs(k - 1): it depends on layer k - 1's bounds only, final once layer k is refined.
  auto setV = [&](int k) { vk_[k] = w_->cols(size_t(k)).cwiseAbs() * zAbs(k - 1); };
  if (L > 0) setV(0);
  std::vector<Eigen::Index> rows, S, S2;
  MatrixXd Lam, Lam2;
  VectorXd cst, err, gath, gathB;
  for (int K = 1; K < L; ++K) {
    setV(K);
    if (!net_.layers[K].relu) continue;
    rows.clear();
    for (Eigen::Index j = 0; j < nb.lo[K].size(); ++j)
      if (nb.lo[K][j] < 0 && nb.hi[K][j] > 0) rows.push_back(j);
    constexpr size_t kBlock = 64;
    for (size_t b0 = 0; b0 < rows.size(); b0 += kBlock) {
      pollCancellation();
      const Eigen::Index r = static_cast<Eigen::Index>(std::min(kBlock, rows.size() - b0));
      // The objective +-e_j over h_K, on the block's own neurons.
      S.assign(rows.begin() + static_cast<std::ptrdiff_t>(b0),
               rows.begin() + static_cast<std::ptrdiff_t>(b0) + r);
      Lam.setZero(2 * r, r);
      for (Eigen::Index i = 0; i < r; ++i) {
        Lam(i, i) = 1.0;
        Lam(r + i, i) = -1.0;
      }
      cst.setZero(2 * r);
      err.setZero(2 * r);
      MatrixXd A;
      for (int k = K; k >= 0; --k) {
        const auto& layer = net_.layers[k];
        const Eigen::Index nk = layer.W.rows(), mk = layer.W.cols();
        const Eigen::Index ns = static_cast<Eigen::Index>(S.size());
        gath.resize(ns);
        gathB.resize(ns);
        for (Eigen::Index s = 0; s < ns; ++s) {
          gath[s] = vk_[k][S[s]];
          gathB[s] = layer.b[S[s]];
        }
        const MatrixXd absLam = Lam.cwiseAbs();
        err += gammaN(nk) * (absLam * gath) +
               gammaN(nk + 1) * (absLam * gathB.cwiseAbs() + cst.cwiseAbs());
        err.array() += kTiny;
        cst += Lam * gathB;
        // Lam W_k over the columns reached from S.
        mark_.assign(static_cast<size_t>(mk), 0);
        pos_.assign(static_cast<size_t>(nk), -1);
        for (Eigen::Index s = 0; s < ns; ++s) {
          pos_[static_cast<size_t>(S[s])] = static_cast<int>(s);
          for (Eigen::SparseMatrix<double, Eigen::RowMajor>::InnerIterator it(w_->rows(size_t(k)), S[s]); it;
               ++it)
            mark_[static_cast<size_t>(it.index())] = 1;
        }
        S2.clear();
        for (Eigen::Index c = 0; c < mk; ++c)
          if (mark_[static_cast<size_t>(c)]) S2.push_back(c);
        const Eigen::Index n2 = static_cast<Eigen::Index>(S2.size());
        Lam2.setZero(2 * r, n2);
        for (Eigen::Index t = 0; t < n2; ++t)
          for (Eigen::SparseMatrix<double>::InnerIterator it(w_->cols(size_t(k)), S2[t]); it; ++it) {
            const int p = pos_[static_cast<size_t>(it.index())];
            if (p >= 0) Lam2.col(t) += it.value() * Lam.col(p);
          }
        if (k == 0) {
          A.setZero(2 * r, mk);
          for (Eigen::Index t = 0; t < n2; ++t)
            A.col(S2[t]) = Lam2.col(t);
          break;
        }
        // Relax layer k - 1's ReLU (bounds.cpp's relaxLayer, DeepPoly's slopes) column by column.
        if (net_.layers[k - 1].relu) {
          const VectorXd& l = nb.lo[k - 1];
          const VectorXd& u = nb.hi[k - 1];
          const Eigen::Index n = l.size();
          VectorXd tt(n2), hm(n2);
          MatrixXd Ln(2 * r, n2);
          for (Eigen::Index t = 0; t < n2; ++t) {
            const Eigen::Index j = S2[t];
            double a, s;
            if (u[j] <= 0) {
              a = s = tt[t] = 0.0;
            } else if (l[j] >= 0) {
              a = s = 1.0;
              tt[t] = 0.0;
            } else {
              a = u[j] > -l[j] ? 1.0 : 0.0;
              s = u[j] / (u[j] - l[j]);
              tt[t] = -s * l[j] + 4.0 * kUnit * (std::fabs(l[j]) + std::fabs(u[j])) + kTiny;
            }
            hm[t] = std::max(std::fabs(l[j]), std::fabs(u[j]));
            Ln.col(t) = Lam2.col(t).cwiseMin(0.0);
            Lam2.col(t) = Lam2.col(t).cwiseMax(0.0) * a;
            Lam2.col(t) += Ln.col(t) * s;
          }
          err += (kUnit * (Lam2.cwiseAbs() * hm)) +
                 (gammaN(n + 1) * (Ln.cwiseAbs() * tt.cwiseAbs() + cst.cwiseAbs()));
          cst += Ln * tt;
        }
        // Keep the columns that are not all zero (an inactive neuron's, a cancelled one's).
        S.clear();
        Eigen::Index kept = 0;
        for (Eigen::Index t = 0; t < n2; ++t) {
          if ((Lam2.col(t).array() == 0.0).all()) continue;
          if (kept != t) Lam2.col(kept) = Lam2.col(t);
          S.push_back(S2[t]);
          ++kept;
        }
        Lam = Lam2.leftCols(kept);
      }
      // min over the box of A x + cst (bounds.cpp's boxMinimum).
      const VectorXd v = A.cwiseMax(0.0) * box.lo + A.cwiseMin(0.0) * box.hi + cst;
      const VectorXd e =
          err + gammaN(A.cols() + 1) * (A.cwiseAbs() * boxAbs + cst.cwiseAbs());
      const VectorXd low = v - e - VectorXd::Constant(v.size(), kTiny);
      for (Eigen::Index i = 0; i < r; ++i) {
        const Eigen::Index j = rows[b0 + static_cast<size_t>(i)];
        nb.lo[K][j] = std::max(nb.lo[K][j], low[i]);
        nb.hi[K][j] = std::min(nb.hi[K][j], -low[r + i]);
      }
    }
  }
}

} // namespace chassis::verifier
