// Circuit discovery (ACDC, EAP, magnitude), ROC AUC against a known circuit, and circuit
// metrics. Definitions in neural/circuit_discovery.h.
#include "neural/circuit_discovery.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

namespace chassis::neural {

const char* methodName(DiscoveryMethod m) {
  switch (m) {
  case DiscoveryMethod::Acdc:
    return "acdc";
  case DiscoveryMethod::Eap:
    return "eap";
  case DiscoveryMethod::Magnitude:
    return "magnitude";
  }
  return "?";
}

std::optional<DiscoveryMethod> parseMethod(std::string_view s) {
  for (DiscoveryMethod m :
       {DiscoveryMethod::Acdc, DiscoveryMethod::Eap, DiscoveryMethod::Magnitude})
    if (s == methodName(m)) return m;
  return std::nullopt;
}

namespace {

[[noreturn]] void fail(const std::string& msg) {
  throw std::invalid_argument(msg);
}

using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowIndex = Eigen::Map<const Eigen::Matrix<Eigen::Index, Eigen::Dynamic, 1>>;

/// Checks the data against the network (shapes, labels) and the ablation (patch inputs).
void checkData(const AffineNet& net, const BehaviourData& d, Ablation ablation) {
  if (d.X.rows() == 0) fail("the behaviour data has no samples");
  if (d.X.cols() != net.inputSize)
    fail("the behaviour data has " + std::to_string(d.X.cols()) + " input columns, the network " +
         std::to_string(net.inputSize) + " inputs");
  if (ablation == Ablation::Resample &&
      (d.Xpatch.rows() != d.X.rows() || d.Xpatch.cols() != d.X.cols()))
    fail("resample ablation needs patch inputs of the data's shape (" + std::to_string(d.X.rows()) +
         "x" + std::to_string(d.X.cols()) + "), got " + std::to_string(d.Xpatch.rows()) + "x" +
         std::to_string(d.Xpatch.cols()));
  if (!d.X.allFinite()) fail("the behaviour data's inputs are not all finite");
  if (ablation == Ablation::Resample && !d.Xpatch.allFinite())
    fail("the behaviour data's patch inputs are not all finite");
  const int outs = net.outputSize();
  if (d.Y.rows() != d.X.rows())
    fail("the behaviour data has " + std::to_string(d.X.rows()) + " samples but " +
         std::to_string(d.Y.rows()) + " target rows");
  if (d.classification) {
    if (d.Y.cols() != 1) fail("classification targets must be one column of class indices");
    for (Eigen::Index r = 0; r < d.Y.rows(); ++r) {
      double y = d.Y(r, 0);
      if (!(y >= 0 && y < outs && y == std::floor(y)))
        fail("classification label " + std::to_string(y) + " in row " + std::to_string(r) +
             " is not a class index 0.." + std::to_string(outs - 1));
    }
  } else if (d.Y.cols() != outs) {
    fail("regression targets have " + std::to_string(d.Y.cols()) + " columns, the network " +
         std::to_string(outs) + " outputs");
  } else if (!d.Y.allFinite()) {
    fail("the regression targets are not all finite");
  }
}

/// Row-wise log-softmax.
Eigen::MatrixXd logSoftmax(const Eigen::MatrixXd& Z) {
  Eigen::VectorXd mx = Z.rowwise().maxCoeff();
  Eigen::MatrixXd S = Z.colwise() - mx;
  Eigen::VectorXd lse = S.array().exp().rowwise().sum().log();
  return S.colwise() - lse;
}

/// Per-sample divergence between the full output (given as its log-softmax for classification,
/// as is for regression) and a circuit output.
Eigen::VectorXd sampleDivergence(const Eigen::MatrixXd& fullRef, const Eigen::MatrixXd& out,
                                 bool classification) {
  if (classification) {
    Eigen::MatrixXd lq = logSoftmax(out);
    return (fullRef.array().exp() * (fullRef - lq).array()).rowwise().sum();
  }
  return (fullRef - out).array().square().rowwise().mean();
}

/// The ablated values a cut edge of each layer carries, per sample (n x in_k).
std::vector<Eigen::MatrixXd> ablatedValues(const AffineNet& net, Ablation ablation,
                                           const BehaviourData& d,
                                           const std::vector<Eigen::MatrixXd>& acts) {
  std::vector<Eigen::MatrixXd> abl;
  const Eigen::Index n = d.X.rows();
  std::vector<Eigen::MatrixXd> patch;
  if (ablation == Ablation::Resample) patch = layerActivations(net, d.Xpatch);
  for (size_t k = 0; k < net.layers.size(); ++k) {
    switch (ablation) {
    case Ablation::Zero:
      abl.push_back(Eigen::MatrixXd::Zero(n, acts[k].cols()));
      break;
    case Ablation::Mean:
      abl.push_back(acts[k].colwise().mean().replicate(n, 1));
      break;
    case Ablation::Resample:
      abl.push_back(patch[k]);
      break;
    }
  }
  return abl;
}

template <typename Mat> Mat activate(Mat Z, bool relu) {
  if (relu) Z = Z.cwiseMax(0.0);
  return Z;
}

} // namespace

EdgeScores acdcRun(const AffineNet& net, Ablation ablation, const BehaviourData& data,
                   double threshold, Circuit* circuit) {
  checkCircuitShape(net, fullCircuit(net, ablation));
  checkData(net, data, ablation);
  const size_t L = net.layers.size();
  const Eigen::Index n = data.X.rows();
  std::vector<Eigen::MatrixXd> full = layerActivations(net, data.X);
  std::vector<Eigen::MatrixXd> abl = ablatedValues(net, ablation, data, full);
  // Per-sample divergence from the full network on a subset of rows. Classification:
  // KL(p || softmax(z)) = sum_o p_o log p_o - p . z + logsumexp(z), with p and its negative
  // entropy computed once; regression: the mean squared difference.
  const Eigen::MatrixXd fullLogP = data.classification ? logSoftmax(full[L]) : full[L];
  const Eigen::MatrixXd fullP = fullLogP.array().exp();
  const Eigen::VectorXd negEntropy = (fullP.array() * fullLogP.array()).rowwise().sum();
  auto divergenceOn = [&](const RowIndex& rows, const RowMat& out) {
    if (!data.classification)
      return Eigen::VectorXd((full[L](rows, Eigen::all) - out).array().square().rowwise().mean());
    Eigen::VectorXd mx = out.rowwise().maxCoeff();
    Eigen::MatrixXd e = out;
    e.colwise() -= mx;
    e = e.array().exp().matrix(); // a plain elementwise assignment: Eigen's vectorised exp
    Eigen::VectorXd lse = mx.array() + e.rowwise().sum().array().log();
    return Eigen::VectorXd(negEntropy(rows).array() -
                           (fullP(rows, Eigen::all).array() * out.array()).rowwise().sum() +
                           lse.array());
  };

  // The current circuit: its pre-activations Z[k] and activations A[k] (A[0] = X), the kept
  // weights Wk[k], the per-sample divergence from the full network.
  // Samples are rows, stored row-major so that gathering the changed samples copies whole rows.
  std::vector<RowMat> Z(L), A(full.begin(), full.end());
  std::vector<Eigen::MatrixXd> Wk(L);
  for (size_t k = 0; k < L; ++k) {
    Wk[k] = net.layers[k].W;
    Z[k] = A[k] * Wk[k].transpose();
    Z[k].rowwise() += net.layers[k].b.transpose();
  }
  // 0 up to rounding; computed by the same formula as the trials so that a cut without effect
  // on a sample leaves that sample's term exactly as it was.
  std::vector<Eigen::Index> allRows(static_cast<size_t>(n));
  std::iota(allRows.begin(), allRows.end(), Eigen::Index{0});
  Eigen::VectorXd divCur = divergenceOn(RowIndex(allRows.data(), n), A[L]);
  Circuit c = fullCircuit(net, ablation);
  EdgeScores scores;
  for (size_t k = 0; k < L; ++k)
    scores.score.push_back(Eigen::MatrixXd::Zero(Wk[k].rows(), Wk[k].cols()));

  // A cut in layer k changes one unit i of a_{k+1} by dA, on the samples `rows` where dA is not
  // 0. Only live units are followed (those with a path of kept, nonzero weights to an output;
  // the layers above k do not change while layer k is visited), and of those only the ones the
  // change reaches: layer m's step costs rows x (changed units of a_m) x (reached units of
  // a_{m+1}). The step into z_{k+1} is the rank-one dA w^T (w = Wk[k+1].col(i) on its support S).
  // When k + 2 < L the step into z_{k+2}, dense for a dense circuit, is written as
  //   dz_{k+2} = dA .* P_i  +  sum over flips (x, v) of corr(x, v) Wk[k+2].col(v)^T,
  //   P_i = (M(:, S) .* w_S^T) Wk[k+2](:, S)^T,  M = [z_{k+1} > 0]  (all 1 without a ReLU),
  // exact where the ReLUs of layer k+1 keep their state, the entries that flip corrected one by
  // one. P_i is computed once per receiving unit i and updated at the flips of each kept cut, so
  // that product is paid per unit rather than per edge. Units that are not live are left stale
  // above layer k+1: no live unit reads them.
  using Index = Eigen::Index;
  using IndexList = std::vector<Index>;
  IndexList rows;
  std::vector<std::pair<Index, Index>> flips; // (index into rows, index into S)
  std::vector<RowMat> trialZ(L), trialA(L + 1);
  std::vector<IndexList> trialCols(L + 1); // units of a_m that the trial changed
  RowMat P, zOld;
  std::vector<char> mark;
  for (size_t k = L; k-- > 0;) {
    const AffineLayer& Lk = net.layers[k];
    const bool twoStep = k + 2 < L;
    const bool reluNext = k + 1 < L && net.layers[k + 1].relu;
    // live[m]: units of a_m (m > k) that reach an output; recv[m][v]: the live units of
    // a_{m+1} that unit v of a_m feeds through a kept, nonzero weight.
    std::vector<std::vector<bool>> live(L + 1);
    std::vector<std::vector<IndexList>> recv(L);
    live[L].assign(static_cast<size_t>(A[L].cols()), true);
    for (size_t m = L; m-- > k + 1;) {
      live[m].assign(static_cast<size_t>(Wk[m].cols()), false);
      recv[m].resize(static_cast<size_t>(Wk[m].cols()));
      for (Index v = 0; v < Wk[m].cols(); ++v)
        for (Index u = 0; u < Wk[m].rows(); ++u)
          if (live[m + 1][u] && Wk[m](u, v) != 0) {
            recv[m][v].push_back(u);
            live[m][v] = true;
          }
    }
    // The units a change of `cols` (units of a_m) reaches in a_{m+1}.
    auto reached = [&](size_t m, const IndexList& cols) {
      mark.assign(static_cast<size_t>(Wk[m].rows()), 0);
      IndexList out;
      for (Index v : cols)
        for (Index u : recv[m][v])
          if (!mark[u]) {
            mark[u] = 1;
            out.push_back(u);
          }
      std::sort(out.begin(), out.end());
      return out;
    };
    // What cutting an edge (i, j) of this layer does to z_k(i): W(i,j) (abl_j - a_j), a_k being
    // fixed while layer k is visited (column-major: one contiguous column per source).
    const Eigen::MatrixXd shift = abl[k] - Eigen::MatrixXd(A[k]);
    for (Index i = 0; i < Lk.W.rows(); ++i) {
      const bool reaches = k + 1 == L || live[k + 1][i];
      Eigen::VectorXd zCol = Z[k].col(i), aCol = A[k + 1].col(i); // the unit's current values
      IndexList S, T2;
      Eigen::VectorXd wS;
      Eigen::MatrixXd W2; // Wk[k+2](T2, S)
      if (k + 1 < L && reaches) {
        S = recv[k + 1][i];
        wS = Wk[k + 1](S, Eigen::all).col(i);
        if (twoStep) {
          T2 = reached(k + 2, S);
          W2 = Wk[k + 2](T2, S);
          RowMat M = reluNext ? RowMat((Z[k + 1](Eigen::all, S).array() > 0).cast<double>())
                              : RowMat::Ones(n, static_cast<Index>(S.size()));
          P = (M.array().rowwise() * wS.transpose().array()).matrix() * W2.transpose();
        }
      }
      for (Index j = 0; j < Lk.W.cols(); ++j) {
        // Cutting (i, j) moves z_k(i) by W(i,j) (abl_j - a_j), then a_{k+1}(i) by dA.
        Eigen::VectorXd zi = zCol + Lk.W(i, j) * shift.col(j);
        Eigen::VectorXd ai = activate(zi, Lk.relu);
        Eigen::VectorXd dA = ai - aCol;
        rows.clear();
        for (Index r = 0; r < n; ++r)
          if (dA(r) != 0) rows.push_back(r);
        const Index nr = static_cast<Index>(rows.size());
        // Indexing Eigen with a std::vector copies it into each view; a Map is a pointer.
        const RowIndex R(rows.data(), nr);
        double increase = 0;
        if (!rows.empty() && reaches) {
          const Eigen::VectorXd dAr = dA(R);
          size_t next = L; // first layer stepped through in general form
          if (k + 1 == L) {
            trialCols[L] = {i};
            trialA[L] = ai(R);
          } else {
            trialCols[k + 2] = S;
            zOld = Z[k + 1](R, S);
            trialZ[k + 1] = zOld;
            trialZ[k + 1].noalias() += dAr * wS.transpose();
            trialA[k + 2] = activate(trialZ[k + 1], reluNext);
            next = k + 2;
            if (twoStep) {
              RowMat z2 = Z[k + 2](R, T2);
              z2 += (P(R, Eigen::all).array().colwise() * dAr.array()).matrix();
              flips.clear();
              if (reluNext && ((zOld.array() > 0) != (trialZ[k + 1].array() > 0)).any())
                for (Index r = 0; r < nr; ++r)
                  for (Index s = 0; s < static_cast<Index>(S.size()); ++s) {
                    const bool wasOn = zOld(r, s) > 0;
                    if ((trialZ[k + 1](r, s) > 0) == wasOn) continue;
                    flips.emplace_back(r, s);
                    // a_{k+2} = relu(z_{k+1}) is kept exactly, so its old value is relu(zOld).
                    double corr = trialA[k + 2](r, s) - std::max(zOld(r, s), 0.0) -
                                  (wasOn ? dAr(r) * wS(s) : 0.0);
                    z2.row(r) += corr * W2.col(s).transpose();
                  }
              trialCols[k + 3] = T2;
              trialZ[k + 2] = std::move(z2);
              trialA[k + 3] = activate(trialZ[k + 2], net.layers[k + 2].relu);
              next = k + 3;
            }
          }
          for (size_t m = next; m < L; ++m) {
            const IndexList& cols = trialCols[m];
            trialCols[m + 1] = reached(m, cols);
            const IndexList& T = trialCols[m + 1];
            trialZ[m] = Z[m](R, T);
            trialZ[m].noalias() += (trialA[m] - A[m](R, cols)) * Wk[m](T, cols).transpose();
            trialA[m + 1] = activate(trialZ[m], net.layers[m].relu);
          }
          RowMat out = A[L](R, Eigen::all);
          out(Eigen::all, trialCols[L]) = trialA[L];
          Eigen::VectorXd divNew = divergenceOn(R, out);
          increase = (divNew.sum() - divCur(R).sum()) / static_cast<double>(n);
          if (increase < threshold) {
            for (size_t m = k + 1; m < L; ++m) {
              Z[m](R, trialCols[m + 1]) = trialZ[m];
              A[m + 1](R, trialCols[m + 1]) = trialA[m + 1];
            }
            if (k + 1 == L) A[L](R, trialCols[L]) = trialA[L];
            divCur(R) = divNew;
            if (twoStep)
              for (auto [r, si] : flips) {
                double sign = zOld(r, si) > 0 ? -1.0 : 1.0;
                P.row(rows[r]) += (sign * wS(si)) * W2.col(si).transpose();
              }
          }
        }
        scores.score[k](i, j) = std::max(increase, 0.0);
        if (increase < threshold) {
          c.keep[k](i, j) = false;
          Wk[k](i, j) = 0;
          // The unit's own value moves even when nothing above it does.
          zCol = zi;
          aCol = ai;
          Z[k].col(i) = zi;
          A[k + 1].col(i) = ai;
        }
      }
    }
  }
  if (circuit) *circuit = std::move(c);
  return scores;
}

EdgeScores scoreEdges(const AffineNet& net, DiscoveryMethod method, Ablation ablation,
                      const BehaviourData& data) {
  if (method == DiscoveryMethod::Acdc) return acdcRun(net, ablation, data, acdcScoreThreshold);
  checkCircuitShape(net, fullCircuit(net, ablation));
  checkData(net, data, ablation);
  const size_t L = net.layers.size();
  const double n = static_cast<double>(data.X.rows());
  std::vector<Eigen::MatrixXd> acts = layerActivations(net, data.X);
  EdgeScores s;
  if (method == DiscoveryMethod::Magnitude) {
    // reaches[k](i): output unit i of layer k reaches an output through nonzero weights (dead
    // ends are pruned first, as magnitude pruning does).
    std::vector<Eigen::VectorXd> reaches(L);
    for (size_t k = L; k-- > 0;) {
      const Eigen::Index rows = net.layers[k].W.rows();
      if (k + 1 == L) {
        reaches[k] = Eigen::VectorXd::Ones(rows);
        continue;
      }
      const Eigen::MatrixXd& Wn = net.layers[k + 1].W; // out(k+1) x rows
      reaches[k] = Eigen::VectorXd::Zero(rows);
      for (Eigen::Index i = 0; i < rows; ++i)
        for (Eigen::Index o = 0; o < Wn.rows(); ++o)
          if (Wn(o, i) != 0 && reaches[k + 1][o] != 0) {
            reaches[k][i] = 1;
            break;
          }
    }
    for (size_t k = 0; k < L; ++k) {
      Eigen::RowVectorXd meanAbs = acts[k].cwiseAbs().colwise().mean();
      Eigen::MatrixXd sc = net.layers[k].W.cwiseAbs().array().rowwise() * meanAbs.array();
      s.score.push_back(reaches[k].asDiagonal() * sc);
    }
    return s;
  }
  // EAP: |a - abl| per source, |dM/dz| per receiver, one backward pass per proxy output.
  std::vector<Eigen::MatrixXd> abl = ablatedValues(net, ablation, data, acts);
  for (size_t k = 0; k < L; ++k)
    s.score.push_back(Eigen::MatrixXd::Zero(net.layers[k].W.rows(), net.layers[k].W.cols()));
  if (L == 0) return s;
  // Integrated gradients along the path from the ablated to the clean activations of the source
  // layer k: the source activations are set to abl + alpha (a - abl) for alpha at the midpoints of
  // kEapSteps intervals, the network is run from layer k on, and dM/dz_k averaged over the steps.
  const int outs = net.outputSize();
  const int passes = data.classification ? 1 : outs;
  std::vector<Eigen::VectorXd> activeOnData(L); // per layer: 1 for a unit positive on some row
  for (size_t l = 0; l < L; ++l)
    activeOnData[l] = (acts[l + 1].colwise().maxCoeff().array() > 0).cast<double>().transpose();
  const Eigen::Index rows = data.X.rows();
  for (size_t k = 0; k < L; ++k) {
    const Eigen::MatrixXd delta = acts[k] - abl[k];
    Eigen::MatrixXd absDelta = delta.cwiseAbs();
    for (int p = 0; p < passes; ++p) {
      Eigen::MatrixXd Gbar = Eigen::MatrixXd::Zero(rows, net.layers[k].W.rows());
      for (int step = 0; step < kEapSteps; ++step) {
        const double alpha = (step + 0.5) / kEapSteps;
        // Forward from layer k, keeping each layer's ReLU mask.
        std::vector<Eigen::MatrixXd> mask(L);
        Eigen::MatrixXd a = abl[k] + alpha * delta;
        for (size_t l = k; l < L; ++l) {
          Eigen::MatrixXd z = a * net.layers[l].W.transpose();
          z.rowwise() += net.layers[l].b.transpose();
          if (net.layers[l].relu) {
            // relu'(0) = 1/2, the mean of its one-sided derivatives, for a unit that is active
            // on the data: where the path runs along its kink (z = 0 for every alpha, as in
            // relu(a - b) on a = b, XOR's building block) the convention relu'(0) = 0 would
            // score the edges into it 0 although cutting either alone moves the unit. A unit
            // never active on the data carries nothing and keeps relu'(0) = 0.
            mask[l] = (z.array() > 0).cast<double>() +
                      0.5 * ((z.array() == 0).cast<double>().rowwise() *
                             activeOnData[l].transpose().array());
            a = z.cwiseMax(0.0);
          } else {
            mask[l] = Eigen::MatrixXd::Ones(z.rows(), z.cols());
            a = std::move(z);
          }
        }
        Eigen::MatrixXd G = Eigen::MatrixXd::Zero(rows, outs); // dM / d a_L
        for (Eigen::Index r = 0; r < rows; ++r) {
          if (!data.classification || outs == 1) {
            G(r, data.classification ? 0 : p) = 1.0;
            continue;
          }
          // The logit difference: the label's logit minus the mean of the others.
          G.row(r).setConstant(-1.0 / double(outs - 1));
          G(r, static_cast<Eigen::Index>(data.Y(r, 0))) = 1.0;
        }
        for (size_t l = L; l-- > k;) {
          G = G.cwiseProduct(mask[l]); // dM / d z_l
          if (l > k) G = G * net.layers[l].W;
        }
        Gbar += G;
      }
      Gbar /= double(kEapSteps);
      s.score[k] += (net.layers[k].W.cwiseAbs().array() *
                     (Gbar.cwiseAbs().transpose() * absDelta).array() / n)
                        .matrix();
    }
  }
  return s;
}

Circuit discoverCircuit(const AffineNet& net, DiscoveryMethod method, Ablation ablation,
                        const BehaviourData& data, double threshold) {
  Circuit c;
  if (method == DiscoveryMethod::Acdc) {
    (void)acdcRun(net, ablation, data, threshold, &c);
    return c;
  }
  EdgeScores s = scoreEdges(net, method, ablation, data);
  c.ablation = ablation;
  for (const Eigen::MatrixXd& m : s.score)
    c.keep.push_back((m.array() >= threshold).matrix());
  return c;
}

double edgeRocAuc(const EdgeScores& scores, const std::vector<EdgeMask>& truth) {
  if (scores.score.size() != truth.size())
    fail("edge scores have " + std::to_string(scores.score.size()) + " layers, the true circuit " +
         std::to_string(truth.size()));
  std::vector<std::pair<double, bool>> v;
  for (size_t k = 0; k < truth.size(); ++k) {
    const Eigen::MatrixXd& s = scores.score[k];
    if (s.rows() != truth[k].rows() || s.cols() != truth[k].cols())
      fail("edge scores and the true circuit differ in shape at layer " + std::to_string(k));
    for (Eigen::Index j = 0; j < s.cols(); ++j)
      for (Eigen::Index i = 0; i < s.rows(); ++i) {
        if (std::isnan(s(i, j))) fail("edge score of layer " + std::to_string(k) + " is NaN");
        v.emplace_back(s(i, j), truth[k](i, j));
      }
  }
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // Mann-Whitney U with average ranks over ties.
  double rankSumPos = 0, pos = 0;
  for (size_t a = 0; a < v.size();) {
    size_t b = a;
    while (b < v.size() && v[b].first == v[a].first)
      ++b;
    double avgRank = (static_cast<double>(a + 1) + static_cast<double>(b)) / 2.0;
    for (size_t t = a; t < b; ++t)
      if (v[t].second) {
        rankSumPos += avgRank;
        pos += 1;
      }
    a = b;
  }
  double neg = static_cast<double>(v.size()) - pos;
  if (pos == 0 || neg == 0) return std::numeric_limits<double>::quiet_NaN();
  return (rankSumPos - pos * (pos + 1) / 2.0) / (pos * neg);
}

double behaviourMetric(const Eigen::MatrixXd& out, const BehaviourData& data) {
  if (out.rows() != data.Y.rows())
    fail("metric: " + std::to_string(out.rows()) + " outputs for " + std::to_string(data.Y.rows()) +
         " targets");
  if (!data.classification) {
    if (out.cols() != data.Y.cols()) fail("metric: outputs and regression targets differ in width");
    return -(out - data.Y).array().square().mean();
  }
  double correct = 0;
  for (Eigen::Index r = 0; r < out.rows(); ++r) {
    Eigen::Index best = 0;
    out.row(r).maxCoeff(&best); // the first maximum
    if (static_cast<double>(best) == data.Y(r, 0)) correct += 1;
  }
  return correct / static_cast<double>(out.rows());
}

double behaviourDivergence(const Eigen::MatrixXd& full, const Eigen::MatrixXd& circuit,
                           bool classification) {
  if (full.rows() != circuit.rows() || full.cols() != circuit.cols())
    fail("divergence of outputs of different shapes");
  if (full.rows() == 0) return 0;
  return sampleDivergence(classification ? logSoftmax(full) : full, circuit, classification).mean();
}

CircuitMetrics circuitMetrics(const AffineNet& net, const Circuit& c, const ActivationStats& stats,
                              const BehaviourData& data) {
  checkCircuitShape(net, c);
  checkData(net, data, c.ablation);
  auto metricOf = [&](const Circuit& circ) {
    return behaviourMetric(circuitForward(net, circ, stats, data.X, data.Xpatch), data);
  };
  CircuitMetrics m;
  m.metricFull = behaviourMetric(layerActivations(net, data.X).back(), data);
  m.metricEmpty = metricOf(emptyCircuit(net, c.ablation));
  m.metricCircuit = metricOf(c);
  const double tol = 1e-12 * std::max({1.0, std::abs(m.metricFull), std::abs(m.metricEmpty)});
  auto faithfulness = [&](double mc) {
    double den = m.metricFull - m.metricEmpty;
    if (std::abs(den) <= tol) return std::abs(mc - m.metricFull) <= tol ? 1.0 : 0.0;
    return (mc - m.metricEmpty) / den;
  };
  m.faithfulness = faithfulness(m.metricCircuit);
  m.completeness = 1.0 - faithfulness(metricOf(complementCircuit(c)));
  m.accuracy = data.classification ? m.metricCircuit : std::numeric_limits<double>::quiet_NaN();
  return m;
}

} // namespace chassis::neural
