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

Eigen::MatrixXd activate(Eigen::MatrixXd Z, bool relu) {
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
  const Eigen::MatrixXd fullRef = data.classification ? logSoftmax(full[L]) : full[L];

  // The current circuit: its pre-activations Z[k] and activations A[k] (A[0] = X), the kept
  // weights Wk[k], the per-sample divergence from the full network.
  std::vector<Eigen::MatrixXd> Z(L), A = full, Wk(L);
  for (size_t k = 0; k < L; ++k) {
    Wk[k] = net.layers[k].W;
    Z[k] = A[k] * Wk[k].transpose();
    Z[k].rowwise() += net.layers[k].b.transpose();
  }
  Eigen::VectorXd divCur = Eigen::VectorXd::Zero(n);
  Circuit c = fullCircuit(net, ablation);
  EdgeScores scores;
  for (size_t k = 0; k < L; ++k)
    scores.score.push_back(Eigen::MatrixXd::Zero(Wk[k].rows(), Wk[k].cols()));

  std::vector<Eigen::Index> rows;
  std::vector<Eigen::MatrixXd> trialZ(L), trialA(L + 1);
  for (size_t k = L; k-- > 0;) {
    const AffineLayer& Lk = net.layers[k];
    for (Eigen::Index i = 0; i < Lk.W.rows(); ++i) {
      for (Eigen::Index j = 0; j < Lk.W.cols(); ++j) {
        // Cutting (i, j) moves z_k(i) by W(i,j) (abl_j - a_j), then a_{k+1}(i) by dA.
        Eigen::VectorXd zi = Z[k].col(i) + Lk.W(i, j) * (abl[k].col(j) - A[k].col(j));
        Eigen::VectorXd ai = activate(zi, Lk.relu);
        Eigen::VectorXd dA = ai - A[k + 1].col(i);
        rows.clear();
        for (Eigen::Index r = 0; r < n; ++r)
          if (dA(r) != 0) rows.push_back(r);
        double increase = 0;
        if (!rows.empty()) {
          // Recompute the layers above on the changed samples only.
          Eigen::MatrixXd a = A[k + 1](rows, Eigen::all);
          for (size_t r = 0; r < rows.size(); ++r)
            a(static_cast<Eigen::Index>(r), i) = ai(rows[r]);
          trialA[k + 1] = a;
          Eigen::VectorXd dAr = dA(rows);
          for (size_t m = k + 1; m < L; ++m) {
            Eigen::MatrixXd z = Z[m](rows, Eigen::all);
            if (m == k + 1)
              z.noalias() += dAr * Wk[m].col(i).transpose();
            else
              z.noalias() += (trialA[m] - A[m](rows, Eigen::all)) * Wk[m].transpose();
            trialZ[m] = z;
            trialA[m + 1] = activate(std::move(z), net.layers[m].relu);
          }
          Eigen::VectorXd divNew =
              sampleDivergence(fullRef(rows, Eigen::all), trialA[L], data.classification);
          increase = (divNew.sum() - divCur(rows).sum()) / static_cast<double>(n);
          if (increase < threshold) {
            Z[k].col(i) = zi;
            A[k + 1].col(i) = ai;
            for (size_t m = k + 1; m < L; ++m) {
              Z[m](rows, Eigen::all) = trialZ[m];
              A[m + 1](rows, Eigen::all) = trialA[m + 1];
            }
            divCur(rows) = divNew;
          }
        }
        scores.score[k](i, j) = std::max(increase, 0.0);
        if (increase < threshold) {
          c.keep[k](i, j) = false;
          Wk[k](i, j) = 0;
          if (rows.empty()) Z[k].col(i) = zi; // z moved although a did not (ReLU clipped it)
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
    for (size_t k = 0; k < L; ++k) {
      Eigen::RowVectorXd meanAbs = acts[k].cwiseAbs().colwise().mean();
      s.score.push_back(net.layers[k].W.cwiseAbs().array().rowwise() * meanAbs.array());
    }
    return s;
  }
  // EAP: |a - abl| per source, |dM/dz| per receiver, one backward pass per proxy output.
  std::vector<Eigen::MatrixXd> abl = ablatedValues(net, ablation, data, acts);
  for (size_t k = 0; k < L; ++k)
    s.score.push_back(Eigen::MatrixXd::Zero(net.layers[k].W.rows(), net.layers[k].W.cols()));
  if (L == 0) return s;
  auto derivative = [&](size_t k) -> Eigen::MatrixXd { // d a_{k+1} / d z_k, elementwise
    if (!net.layers[k].relu) return Eigen::MatrixXd::Ones(acts[k + 1].rows(), acts[k + 1].cols());
    return (acts[k + 1].array() > 0).cast<double>();
  };
  const int outs = net.outputSize();
  const int passes = data.classification ? 1 : outs;
  for (int p = 0; p < passes; ++p) {
    Eigen::MatrixXd G = Eigen::MatrixXd::Zero(acts[L].rows(), outs); // dM / d a_L
    for (Eigen::Index r = 0; r < G.rows(); ++r)
      G(r, data.classification ? static_cast<Eigen::Index>(data.Y(r, 0)) : p) = 1.0;
    for (size_t k = L; k-- > 0;) {
      G = G.cwiseProduct(derivative(k)); // now dM / d z_k
      Eigen::MatrixXd absDelta = (acts[k] - abl[k]).cwiseAbs();
      s.score[k] +=
          (net.layers[k].W.cwiseAbs().array() * (G.cwiseAbs().transpose() * absDelta).array() / n)
              .matrix();
      if (k > 0) G = G * net.layers[k].W; // dM / d a_k
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
