// Random sampling and batched projected gradient descent inside a box (the maths is in attack.h).
// All per-step work runs on buffers allocated once per call: the batch's activations, their
// pre-activations (the ReLU masks) and the backward gradients, one (width x batch) matrix per
// layer, so each step is a chain of matrix-matrix products and coefficient-wise loops.
#include "verifier/attack.h"

#include <Eigen/SVD>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace chassis::verifier {

using Clock = std::chrono::steady_clock;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

/// Forward and backward passes of an AffineNet over a batch of B inputs (one per column).
class BatchNet {
public:
  BatchNet(const neural::AffineNet& net, int B) : net_(net) {
    const size_t L = net.layers.size();
    A_.resize(L + 1);
    Z_.resize(L);
    G_.resize(L + 1);
    A_[0].setZero(net.inputSize, B);
    G_[0].setZero(net.inputSize, B);
    for (size_t k = 0; k < L; ++k) {
      const Eigen::Index r = net.layers[k].W.rows();
      Z_[k].setZero(r, B);
      A_[k + 1].setZero(r, B);
      G_[k + 1].setZero(r, B);
    }
  }

  MatrixXd& input() { return A_[0]; }
  /// dL/dY goes here before backward().
  MatrixXd& outputGrad() { return G_.back(); }

  const MatrixXd& forward() {
    for (size_t k = 0; k < net_.layers.size(); ++k) {
      const neural::AffineLayer& L = net_.layers[k];
      Z_[k].noalias() = L.W * A_[k];
      Z_[k].colwise() += L.b;
      if (L.relu)
        A_[k + 1] = Z_[k].cwiseMax(0.0);
      else
        A_[k + 1] = Z_[k];
    }
    return A_.back();
  }

  /// dL/dX from dL/dY (outputGrad), through the ReLU masks of the last forward().
  const MatrixXd& backward() {
    for (size_t k = net_.layers.size(); k-- > 0;) {
      const neural::AffineLayer& L = net_.layers[k];
      if (L.relu) G_[k + 1] = (Z_[k].array() > 0.0).select(G_[k + 1].array(), 0.0).matrix();
      G_[k].noalias() = L.W.transpose() * G_[k + 1];
    }
    return G_[0];
  }

private:
  const neural::AffineNet& net_;
  std::vector<MatrixXd> A_, Z_, G_;
};

/// The loss data of the cases that share one box (a disjunction over their output conditions,
/// attacked together): their rows stacked in C, d (member k owns rows offset[k] ..
/// offset[k+1]), slack tau, and buffers V = C Y - d, H = the loss's gradient weights.
struct CaseWork {
  const CaseSpec* cs = nullptr; // the first member (for the box)
  std::vector<const CaseSpec*> members;
  std::vector<int> memberIndex;
  std::vector<Eigen::Index> offset;
  int hitMember = -1; // after evaluate: the member the hit column violates
  MatrixXd C;
  VectorXd d, tau, width, centre;
  MatrixXd V, H;
  std::vector<double> loss; // per column
  MatrixXd starts;          // sampled points, best first (columns)
  int nextStart = 0, startsUsed = 0;
  std::vector<VectorXd> carry; // points from coordinate sweeps, descended from next
};

/// Fills V, H and loss for the current output Y; returns a column with zero loss that replays
/// (its member in w.hitMember), or -1. A column's loss is the smallest of the members' hinge
/// sums (the disjunction is violated where any member is), and H weights only that member's
/// rows, so the gradient pulls each point towards the member it is closest to violating.
int evaluate(const neural::AffineNet& net, CaseWork& w, const MatrixXd& X, const MatrixXd& Y,
             int cols) {
  w.V.noalias() = w.C * Y;
  w.V.colwise() -= w.d;
  w.H.setZero();
  int hit = -1;
  const size_t nm = w.members.size();
  for (int b = 0; b < static_cast<int>(w.V.cols()); ++b) {
    double best = std::numeric_limits<double>::infinity();
    size_t bestK = 0;
    for (size_t k = 0; k < nm; ++k) {
      double l = 0.0;
      for (Eigen::Index j = w.offset[k]; j < w.offset[k + 1]; ++j) {
        double s = w.V(j, b) + w.tau[j];
        if (s > 0.0 || std::isnan(s))
          l += std::isnan(s) ? std::numeric_limits<double>::infinity() : s;
      }
      if (l < best || k == 0) {
        best = l;
        bestK = k;
      }
    }
    for (Eigen::Index j = w.offset[bestK]; j < w.offset[bestK + 1]; ++j) {
      double s = w.V(j, b) + w.tau[j];
      w.H(j, b) = s > 0.0 || std::isnan(s) ? 1.0 : 0.0;
    }
    w.loss[b] = best;
    if (hit < 0 && b < cols && best == 0.0) {
      for (size_t k = 0; k < nm && hit < 0; ++k) // any member the point violates
        if (replays(net, *w.members[k], X.col(b))) {
          hit = b;
          w.hitMember = static_cast<int>(k);
        }
    }
  }
  return hit;
}

/// The search state shared by the phases.
struct Attack {
  const neural::AffineNet& net;
  const AttackOptions& opt;
  Rng& rng;
  Clock::time_point deadline;
  int B;
  BatchNet bn;
  MatrixXd M, S; // Adam moments
  long evaluations = 0;

  Attack(const neural::AffineNet& n, const AttackOptions& o, Rng& r, Clock::time_point dl, int b)
      : net(n), opt(o), rng(r), deadline(dl), B(b), bn(n, b), M(n.inputSize, b), S(n.inputSize, b) {
  }

  const std::atomic<bool>* stop = nullptr;

  bool expired() const {
    return (stop && stop->load(std::memory_order_relaxed)) || Clock::now() > deadline;
  }

  void uniformInto(const CaseSpec& cs, MatrixXd& X, int col) {
    for (Eigen::Index i = 0; i < X.rows(); ++i)
      X(i, col) = std::clamp(cs.box.lo[i] + rng.uniform() * (cs.box.hi[i] - cs.box.lo[i]),
                             cs.box.lo[i], cs.box.hi[i]);
  }

  /// Phase 1 on one case: centre + samples; keeps them sorted best-first in w.starts.
  std::optional<VectorXd> sample(CaseWork& w) {
    const CaseSpec& cs = *w.cs;
    const int total = 1 + std::max(0, opt.samples);
    MatrixXd pts(net.inputSize, total);
    std::vector<double> loss(total);
    pts.col(0) = w.centre;
    for (int s = 1; s < total; ++s)
      uniformInto(cs, pts, s);
    MatrixXd& X = bn.input();
    for (int s0 = 0; s0 < total; s0 += B) {
      if (expired()) return std::nullopt;
      const int cols = std::min(B, total - s0);
      for (int b = 0; b < B; ++b)
        X.col(b) = pts.col(b < cols ? s0 + b : 0);
      int hit = evaluate(net, w, X, bn.forward(), cols);
      evaluations += cols;
      if (hit >= 0) return VectorXd(X.col(hit));
      for (int b = 0; b < cols; ++b)
        loss[s0 + b] = w.loss[b];
    }
    std::vector<int> order(total);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return loss[a] < loss[b]; });
    w.starts.resize(net.inputSize, total);
    for (int s = 0; s < total; ++s)
      w.starts.col(s) = pts.col(order[s]);
    return std::nullopt;
  }

  /// Phase 2: PGD from the columns of X (the first `cols` are real starts).
  std::optional<VectorXd> descend(CaseWork& w, int cols, int iterations) {
    const CaseSpec& cs = *w.cs;
    MatrixXd& X = bn.input();
    if (opt.adam) {
      M.setZero();
      S.setZero();
    }
    const double b1 = 0.9, b2 = 0.999;
    double p1 = 1.0, p2 = 1.0;
    const bool highDim = X.rows() > std::max(1, opt.sweepMaxCoords);
    const double hi =
        std::max(highDim ? std::max(opt.stepHi, opt.highDimStepHi) : opt.stepHi, 1e-12);
    const double lo = std::clamp(opt.stepLo, 1e-12, hi);
    for (int it = 0;; ++it) {
      int hit = evaluate(net, w, X, bn.forward(), cols);
      evaluations += cols;
      if (hit >= 0) return VectorXd(X.col(hit));
      if (it >= iterations || expired()) return std::nullopt;
      bn.outputGrad().noalias() = w.C.transpose() * w.H;
      const MatrixXd& G = bn.backward();
      const double step =
          hi * std::pow(lo / hi, iterations > 1 ? static_cast<double>(it) / (iterations - 1) : 0.0);
      if (opt.adam) {
        p1 *= b1;
        p2 *= b2;
      }
      for (int b = 0; b < cols; ++b)
        for (Eigen::Index i = 0; i < X.rows(); ++i) {
          double g = G(i, b), d;
          if (!std::isfinite(g)) continue;
          if (opt.adam) {
            M(i, b) = b1 * M(i, b) + (1 - b1) * g;
            S(i, b) = b2 * S(i, b) + (1 - b2) * g * g;
            double mh = M(i, b) / (1 - p1), sh = S(i, b) / (1 - p2);
            d = mh / (std::sqrt(sh) + 1e-12);
          } else {
            d = g > 0 ? 1.0 : (g < 0 ? -1.0 : 0.0);
          }
          X(i, b) = std::clamp(X(i, b) - step * d * w.width[i], cs.box.lo[i], cs.box.hi[i]);
        }
    }
  }

  /// The smallest hinge loss over w's members at x (one float64 forward pass), the member in
  /// *member; y = net(x) and, when J is not null, the Jacobian dy/dx of the linear piece x lies
  /// in (the ReLU pattern at x held fixed; a neuron at exactly 0 counts as inactive).
  double pointLoss(const CaseWork& w, const VectorXd& x, int* member, MatrixXd* J) {
    VectorXd y = x;
    if (J) J->setIdentity(x.size(), x.size());
    for (const neural::AffineLayer& L : net.layers) {
      y = L.W * y + L.b;
      if (J) *J = L.W * *J;
      if (L.relu)
        for (Eigen::Index r = 0; r < y.size(); ++r)
          if (!(y[r] > 0.0)) {
            y[r] = 0.0;
            if (J) J->row(r).setZero();
          }
    }
    ++evaluations;
    const VectorXd v = w.C * y - w.d;
    double best = std::numeric_limits<double>::infinity();
    *member = 0;
    for (size_t k = 0; k < w.members.size(); ++k) {
      double l = 0.0;
      for (Eigen::Index j = w.offset[k]; j < w.offset[k + 1]; ++j) {
        const double s = v[j] + w.tau[j];
        if (s > 0.0 || std::isnan(s))
          l += std::isnan(s) ? std::numeric_limits<double>::infinity() : s;
      }
      if (l < best || k == 0) {
        best = l;
        *member = static_cast<int>(k);
      }
    }
    lastV = v;
    return best;
  }
  VectorXd lastV; // pointLoss's C y - d

  /// The linearised steps of attack.h, phase 3, from each of the batch's `cols` points (X):
  /// at x the network is affine on its linear piece, y = J x + c, so the member's constraints
  /// that x breaks or nearly meets (v_j > -m_j) are linear in the step; the least-norm step (in
  /// box-width units) making them v_j = -m_j is solved by SVD. A coordinate the step would
  /// push out of the box is put on that face and dropped from the free ones, and the step is
  /// solved again; the step is then halved until the loss drops (at most 5 times).
  std::optional<VectorXd> linearisedSteps(CaseWork& w, int cols) {
    MatrixXd& X = bn.input();
    const Eigen::Index n = X.rows();
    if (opt.linearSteps <= 0 || cols <= 0 || n > std::max(1, opt.sweepMaxCoords))
      return std::nullopt;
    const CaseSpec& cs = *w.cs;
    // The step aims a little inside the unsafe set (m_j > tau_j), so that the point found
    // still violates after the replay's own float64 rounding.
    const VectorXd margin = (1.0 + w.d.array().abs()) * 1e-6;
    MatrixXd J;
    int member = 0;
    // From the batch's best `linearStarts` points (lowest loss after PGD).
    std::vector<int> order(static_cast<size_t>(cols));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int c) { return w.loss[a] < w.loss[c]; });
    order.resize(static_cast<size_t>(std::min(cols, std::max(0, opt.linearStarts))));
    for (int b : order) {
      VectorXd x = X.col(b);
      double loss = pointLoss(w, x, &member, &J);
      for (int it = 0;; ++it) {
        if (loss == 0.0 && replays(net, *w.members[static_cast<size_t>(member)], x)) {
          w.hitMember = member;
          return x;
        }
        if (it >= opt.linearSteps || expired()) break;
        const VectorXd v = lastV;
        const MatrixXd G = w.C * J;
        std::vector<Eigen::Index> rows;
        for (Eigen::Index j = w.offset[static_cast<size_t>(member)];
             j < w.offset[static_cast<size_t>(member) + 1]; ++j)
          if (v[j] + margin[j] > 0.0) rows.push_back(j);
        if (rows.empty()) break;
        // target: the rows' linear model at the step reaches -margin.
        VectorXd r(static_cast<Eigen::Index>(rows.size()));
        for (size_t a = 0; a < rows.size(); ++a)
          r[static_cast<Eigen::Index>(a)] = -(v[rows[a]] + margin[rows[a]]);
        VectorXd to = x; // x with the coordinates put on a face
        std::vector<char> onFace(static_cast<size_t>(n), 0);
        VectorXd dx = VectorXd::Zero(n);
        for (Eigen::Index round = 0; round <= n; ++round) {
          std::vector<Eigen::Index> free;
          for (Eigen::Index i = 0; i < n; ++i)
            if (!onFace[static_cast<size_t>(i)] && w.width[i] > 0) free.push_back(i);
          dx.setZero();
          if (free.empty()) break;
          MatrixXd S(static_cast<Eigen::Index>(rows.size()),
                     static_cast<Eigen::Index>(free.size()));
          for (size_t a = 0; a < rows.size(); ++a)
            for (size_t f = 0; f < free.size(); ++f)
              S(static_cast<Eigen::Index>(a), static_cast<Eigen::Index>(f)) =
                  G(rows[a], free[f]) * w.width[free[f]];
          const VectorXd z = S.jacobiSvd(Eigen::ComputeThinU | Eigen::ComputeThinV).solve(r);
          if (!z.allFinite()) break;
          for (size_t f = 0; f < free.size(); ++f)
            dx[free[f]] = z[static_cast<Eigen::Index>(f)] * w.width[free[f]];
          bool moved = false;
          for (Eigen::Index i : free) {
            const double t = to[i] + dx[i];
            if (t <= cs.box.hi[i] && t >= cs.box.lo[i]) continue;
            const double face = t > cs.box.hi[i] ? cs.box.hi[i] : cs.box.lo[i];
            for (size_t a = 0; a < rows.size(); ++a) // the linear model at the face
              r[static_cast<Eigen::Index>(a)] -= G(rows[a], i) * (face - to[i]);
            to[i] = face;
            onFace[static_cast<size_t>(i)] = 1;
            moved = true;
          }
          if (!moved) break;
        }
        const VectorXd step = to + dx - x;
        bool better = false;
        double s = 1.0;
        for (int h = 0; h < 6 && !better; ++h, s *= 0.5) {
          if (expired()) return std::nullopt;
          const VectorXd xn = (x + s * step).cwiseMax(cs.box.lo).cwiseMin(cs.box.hi);
          int m = 0;
          MatrixXd Jn;
          const double ln = pointLoss(w, xn, &m, &Jn);
          if (ln < loss) {
            x = xn;
            loss = ln;
            member = m;
            J = std::move(Jn);
            better = true;
          }
        }
        if (!better) break;
      }
      X.col(b) = x;
    }
    return std::nullopt;
  }

  /// Coordinate sweeps from the best `opt.sweepStarts` of the batch's `cols` points (their
  /// losses are in w.loss): along each input coordinate in turn, B stratified points spanning
  /// the box are evaluated and the best is kept if it lowers the loss; up to `opt.sweeps`
  /// passes. The swept points become PGD starts (w.carry).
  std::optional<VectorXd> sweep(CaseWork& w, int cols) {
    const CaseSpec& cs = *w.cs;
    MatrixXd& X = bn.input();
    std::vector<int> order(cols);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return w.loss[a] < w.loss[b]; });
    const int k = std::min(cols, std::max(0, opt.sweepStarts));
    MatrixXd P(X.rows(), k);
    std::vector<double> PL(k);
    for (int j = 0; j < k; ++j) {
      P.col(j) = X.col(order[j]);
      PL[j] = w.loss[order[j]];
    }
    const int nb = std::max(1, (opt.sweepPoints + B - 1) / B); // batches per coordinate
    const Eigen::Index dims = X.rows();
    const Eigen::Index maxCoords = std::max(1, opt.sweepMaxCoords);
    std::vector<Eigen::Index> coords;
    for (int j = 0; j < k; ++j) {
      // The coordinates to sweep: all in low dimension, else those of largest |gradient| x
      // width at this start (one backward pass, the hinge loss's active rows).
      coords.clear();
      if (dims <= maxCoords) {
        for (Eigen::Index i = 0; i < dims; ++i)
          coords.push_back(i);
      } else {
        MatrixXd& X0 = bn.input();
        for (int b = 0; b < B; ++b)
          X0.col(b) = P.col(j);
        evaluate(net, w, X0, bn.forward(), 0);
        bn.outputGrad().noalias() = w.C.transpose() * w.H;
        const MatrixXd& G = bn.backward();
        std::vector<std::pair<double, Eigen::Index>> score(static_cast<size_t>(dims));
        for (Eigen::Index i = 0; i < dims; ++i)
          score[static_cast<size_t>(i)] = {-std::fabs(G(i, 0)) * w.width[i], i};
        std::partial_sort(score.begin(), score.begin() + maxCoords, score.end());
        for (Eigen::Index i = 0; i < maxCoords; ++i)
          coords.push_back(score[static_cast<size_t>(i)].second);
        std::sort(coords.begin(), coords.end());
      }
      for (int pass = 0; pass < opt.sweeps; ++pass) {
        bool improved = false;
        for (Eigen::Index i : coords) {
          if (!(w.width[i] > 0)) continue;
          const double u = rng.uniform();
          const int grid = B * nb;
          double bestLoss = PL[j];
          double bestValue = P(i, j);
          for (int g0 = 0; g0 < grid; g0 += B) {
            if (expired()) return std::nullopt;
            for (int b = 0; b < B; ++b) {
              X.col(b) = P.col(j);
              X(i, b) = std::clamp(cs.box.lo[i] + (g0 + b + u) / grid * w.width[i], cs.box.lo[i],
                                   cs.box.hi[i]);
            }
            int hit = evaluate(net, w, X, bn.forward(), B);
            evaluations += B;
            if (hit >= 0) return VectorXd(X.col(hit));
            for (int b = 0; b < B; ++b)
              if (w.loss[b] < bestLoss) {
                bestLoss = w.loss[b];
                bestValue = X(i, b);
              }
          }
          if (bestLoss < PL[j]) {
            PL[j] = bestLoss;
            P(i, j) = bestValue;
            improved = true;
          }
        }
        if (!improved) break;
      }
      w.carry.push_back(P.col(j));
    }
    return std::nullopt;
  }

  /// Loads the next `cols` starts of case w into the batch (best samples, then fresh points).
  int load(CaseWork& w) {
    MatrixXd& X = bn.input();
    const int left = std::max(0, opt.restarts) - w.startsUsed;
    const int cols = std::min(B, left);
    for (int b = 0; b < B; ++b) {
      if (b >= cols) {
        X.col(b) = w.centre;
      } else if (!w.carry.empty()) {
        X.col(b) = w.carry.back();
        w.carry.pop_back();
      } else if (w.nextStart < w.starts.cols()) {
        X.col(b) = w.starts.col(w.nextStart++);
      } else {
        uniformInto(*w.cs, X, b);
      }
    }
    w.startsUsed += cols;
    return cols;
  }
};

/// A case the attack can work on: sizes agree with the network and the box is not empty.
bool usable(const neural::AffineNet& net, const CaseSpec& cs) {
  if (cs.box.lo.size() != net.inputSize || cs.box.hi.size() != net.inputSize) return false;
  if (cs.C.cols() != net.outputSize() || cs.d.size() != cs.C.rows()) return false;
  for (Eigen::Index i = 0; i < cs.box.lo.size(); ++i)
    if (!(cs.box.lo[i] <= cs.box.hi[i])) return false;
  return true;
}

} // namespace

std::optional<AttackResult> falsifyCases(const neural::AffineNet& net,
                                         const std::vector<CaseSpec>& cases,
                                         const AttackOptions& opt, Rng& rng,
                                         Clock::time_point deadline,
                                         const std::atomic<bool>* stop) {
  // One work item per distinct box: the cases of a disjunction over one box are attacked
  // together (the loss is the smallest of theirs), so every PGD start serves all of them.
  std::vector<CaseWork> work;
  work.reserve(cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const CaseSpec& cs = cases[i];
    if (!usable(net, cs)) continue;
    VectorXd centre = ((cs.box.lo + cs.box.hi) * 0.5).cwiseMax(cs.box.lo).cwiseMin(cs.box.hi);
    if (cs.C.rows() == 0) { // no output constraint: every point of the box is in the unsafe set
      if (replays(net, cs, centre)) return AttackResult{static_cast<int>(i), centre, 1};
      continue;
    }
    CaseWork* w = nullptr;
    for (CaseWork& o : work)
      if (o.cs->box.lo == cs.box.lo && o.cs->box.hi == cs.box.hi) w = &o;
    if (!w) {
      work.emplace_back();
      w = &work.back();
      w->cs = &cs;
      w->width = cs.box.hi - cs.box.lo;
      w->centre = centre;
      w->offset.push_back(0);
    }
    w->members.push_back(&cs);
    w->memberIndex.push_back(static_cast<int>(i));
    w->offset.push_back(w->offset.back() + cs.C.rows());
  }
  for (CaseWork& w : work) {
    const Eigen::Index rows = w.offset.back();
    w.C.resize(rows, net.outputSize());
    w.d.resize(rows);
    for (size_t k = 0; k < w.members.size(); ++k) {
      w.C.middleRows(w.offset[k], w.members[k]->C.rows()) = w.members[k]->C;
      w.d.segment(w.offset[k], w.members[k]->C.rows()) = w.members[k]->d;
    }
    w.tau = (1.0 + w.d.array().abs()) * 1e-9;
  }
  if (work.empty()) return std::nullopt;
  const int B = std::clamp(opt.batch, 1, 4096);
  Attack at(net, opt, rng, deadline, B);
  at.stop = stop;
  if (at.expired()) return std::nullopt;
  for (CaseWork& w : work) {
    w.V.resize(w.C.rows(), B);
    w.H.resize(w.C.rows(), B);
    w.loss.assign(B, 0.0);
  }
  for (CaseWork& w : work)
    if (auto x = at.sample(w))
      return AttackResult{w.memberIndex[static_cast<size_t>(w.hitMember)], *x, at.evaluations};
  // PGD rounds, one batch of starts per case in turn.
  for (bool more = true; more;) {
    more = false;
    for (CaseWork& w : work) {
      if (at.expired()) return std::nullopt;
      int cols = at.load(w);
      if (cols == 0) continue;
      more = true;
      if (auto x = at.descend(w, cols, std::max(0, opt.iterations)))
        return AttackResult{w.memberIndex[static_cast<size_t>(w.hitMember)], *x, at.evaluations};
      // The sweeps first (cheap, and they find most ACAS Xu and rl violations), then the
      // linearised steps from the PGD points they started from.
      const MatrixXd pgdEnd = at.bn.input().leftCols(cols);
      const std::vector<double> pgdLoss(w.loss.begin(), w.loss.begin() + cols);
      if (auto x = at.sweep(w, cols))
        return AttackResult{w.memberIndex[static_cast<size_t>(w.hitMember)], *x, at.evaluations};
      at.bn.input().leftCols(cols) = pgdEnd;
      std::copy(pgdLoss.begin(), pgdLoss.end(), w.loss.begin());
      if (auto x = at.linearisedSteps(w, cols))
        return AttackResult{w.memberIndex[static_cast<size_t>(w.hitMember)], *x, at.evaluations};
    }
  }
  return std::nullopt;
}

std::optional<VectorXd> falsify(const neural::AffineNet& net, const CaseSpec& cs,
                                const AttackOptions& opt, Rng& rng, Clock::time_point deadline) {
  std::vector<CaseSpec> one{cs};
  if (auto r = falsifyCases(net, one, opt, rng, deadline)) return r->x;
  return std::nullopt;
}

std::optional<VectorXd> falsify(const neural::AffineNet& net, const CaseSpec& cs,
                                const AttackOptions& opt, SplitMix& rng,
                                Clock::time_point deadline) {
  Rng r(rng.next());
  return falsify(net, cs, opt, r, deadline);
}

std::optional<VectorXd> pgd(const neural::AffineNet& net, const CaseSpec& cs, VectorXd x,
                            int iterations) {
  if (!usable(net, cs) || x.size() != net.inputSize) return std::nullopt;
  if (cs.C.rows() == 0) return replays(net, cs, x) ? std::optional<VectorXd>(x) : std::nullopt;
  AttackOptions opt;
  Rng rng(0); // unused: no sampling here
  Attack at(net, opt, rng, Clock::time_point::max(), 1);
  CaseWork w;
  w.cs = &cs;
  w.members = {&cs};
  w.memberIndex = {0};
  w.offset = {0, cs.C.rows()};
  w.C = cs.C;
  w.d = cs.d;
  w.width = cs.box.hi - cs.box.lo;
  w.tau = (1.0 + cs.d.array().abs()) * 1e-9;
  w.V.resize(cs.C.rows(), 1);
  w.H.resize(cs.C.rows(), 1);
  w.loss.assign(1, 0.0);
  at.bn.input().col(0) = x.cwiseMax(cs.box.lo).cwiseMin(cs.box.hi);
  return at.descend(w, 1, std::max(0, iterations));
}

} // namespace chassis::verifier
