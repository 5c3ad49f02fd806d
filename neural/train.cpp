// Minibatch training of MLPs; the maths is in train.h. Every reduction is an Eigen expression
// evaluated single-threaded in a fixed order, so runs with one seed are byte-identical.
#include "neural/train.h"

#include "spec/run_control.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <ostream>

namespace chassis::neural {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Row-wise log-softmax, stable (subtract the row max).
Eigen::MatrixXd logSoftmax(const Eigen::MatrixXd& Z) {
  Eigen::MatrixXd out = Z;
  for (Eigen::Index i = 0; i < Z.rows(); ++i) {
    const double m = Z.row(i).maxCoeff();
    const double lse = m + std::log((Z.row(i).array() - m).exp().sum());
    out.row(i).array() -= lse;
  }
  return out;
}

/// Loss, accuracy and (if dZ) the gradient of the mean loss w.r.t. the outputs.
/// For MSE, `T` holds the targets (B x k); for CE, `y` the class labels.
std::pair<double, double> lossAndGrad(const Eigen::MatrixXd& Z, const Eigen::VectorXd& y,
                                      const Eigen::MatrixXd& T, LossKind kind,
                                      Eigen::MatrixXd* dZ) {
  const Eigen::Index B = Z.rows();
  if (B == 0) return {kNaN, kNaN};
  double loss = 0;
  int correct = 0;
  if (kind == LossKind::Mse) {
    Eigen::MatrixXd r = Z - T;
    loss = r.squaredNorm() / B;
    for (Eigen::Index i = 0; i < B; ++i)
      correct += r.row(i).cwiseAbs().maxCoeff() < 0.5;
    if (dZ) *dZ = (2.0 / B) * r;
  } else {
    Eigen::MatrixXd lp = logSoftmax(Z);
    for (Eigen::Index i = 0; i < B; ++i) {
      const int c = static_cast<int>(y[i]);
      loss -= lp(i, c);
      Eigen::Index arg;
      Z.row(i).maxCoeff(&arg);
      correct += arg == c;
    }
    loss /= B;
    if (dZ) {
      *dZ = lp.array().exp();
      for (Eigen::Index i = 0; i < B; ++i)
        (*dZ)(i, static_cast<int>(y[i])) -= 1.0;
      *dZ /= static_cast<double>(B);
    }
  }
  return {loss, static_cast<double>(correct) / B};
}

struct OptState {
  std::vector<Eigen::MatrixXd> mW, vW;
  std::vector<Eigen::VectorXd> mb, vb;
  long step = 0;
};

} // namespace

Eigen::MatrixXd Mlp::forward(const Eigen::MatrixXd& X) const {
  Eigen::MatrixXd H = X;
  for (size_t l = 0; l < W.size(); ++l) {
    Eigen::MatrixXd Z = H * W[l].transpose();
    Z.rowwise() += b[l].transpose();
    if (l + 1 < W.size()) Z = Z.cwiseMax(0.0);
    H = std::move(Z);
  }
  return H;
}

std::pair<double, double> score(const Eigen::MatrixXd& Z, const Dataset& d, LossKind loss) {
  if (d.size() == 0) return {kNaN, kNaN};
  return lossAndGrad(Z, d.y, loss == LossKind::Mse ? d.targets() : Eigen::MatrixXd(), loss,
                     nullptr);
}

std::pair<double, double> evaluate(const Mlp& model, const Dataset& d, LossKind loss) {
  if (d.size() == 0) return {kNaN, kNaN};
  return score(model.forward(d.X), d, loss);
}

std::string formatEpoch(const EpochStats& s, int epochs) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "epoch %d/%d  loss %.6f  accuracy %.2f%%", s.epoch, epochs,
                s.trainLoss, 100 * s.trainAccuracy);
  std::string out = buf;
  if (!std::isnan(s.valLoss)) {
    std::snprintf(buf, sizeof buf, "  val_loss %.6f  val_accuracy %.2f%%", s.valLoss,
                  100 * s.valAccuracy);
    out += buf;
  }
  return out;
}

namespace {

/// Folds x' = (x - mu) / sigma into the first layer (see train.h).
Mlp unstandardize(const Mlp& m, const Eigen::RowVectorXd& mu, const Eigen::RowVectorXd& sigma) {
  Mlp out = m;
  out.W[0] = m.W[0] * sigma.cwiseInverse().asDiagonal();
  out.b[0] = m.b[0] - out.W[0] * mu.transpose();
  return out;
}

} // namespace

Expected<TrainResult> train(const Dataset& data, const TrainOptions& o) {
  auto bad = [](const std::string& m) { return Error(m); };
  if (o.epochs < 0) return bad("--epochs must be >= 0");
  if (o.batch < 1) return bad("--batch must be >= 1");
  if (!(o.lr > 0)) return bad("--lr must be > 0");
  if (!(o.testFraction >= 0 && o.testFraction < 1)) return bad("--test-fraction must be in [0, 1)");
  if (!(o.validationFraction >= 0 && o.validationFraction < 1))
    return bad("the validation fraction must be in [0, 1)");
  if (o.l1 < 0 || o.weightDecay < 0) return bad("--l1 and --weight-decay must be >= 0");
  for (int w : o.widths)
    if (w < 1) return bad("every hidden width must be >= 1");
  if (data.size() == 0) return bad("the dataset is empty");

  TrainResult res;
  if (o.numClasses < 0 || o.numClasses == 1) return bad("the number of classes must be >= 2");
  int K = data.numTargets();
  if (o.loss == LossKind::CrossEntropy) {
    if (data.Y.cols() > 1)
      return bad("cross-entropy needs one class label per sample, not a vector target (use MSE)");
    double maxLabel = 0;
    for (int i = 0; i < data.size(); ++i) {
      const double v = data.y[i];
      if (v < 0 || v != std::floor(v) || v > 1e6) {
        SourceLoc loc;
        if (!data.lines.empty()) loc.line = data.lines[i];
        if (!data.labelCols.empty()) loc.col = data.labelCols[i];
        return Error(loc, "cross-entropy needs class labels 0, 1, 2, ...; '" + data.labelName +
                              "' is " + std::to_string(v));
      }
      if (o.numClasses > 0 && v >= o.numClasses) {
        SourceLoc loc;
        if (!data.lines.empty()) loc.line = data.lines[i];
        if (!data.labelCols.empty()) loc.col = data.labelCols[i];
        return Error(loc, "class label " + std::to_string(static_cast<long>(v)) + " of '" +
                              data.labelName + "' is not below the number of classes " +
                              std::to_string(o.numClasses));
      }
      maxLabel = std::max(maxLabel, v);
    }
    K = o.numClasses > 0 ? o.numClasses : std::max(2, static_cast<int>(maxLabel) + 1);
    res.numClasses = K;
  }

  // Splits: stream 1 of the seed shuffles for the test split, stream 2 for validation.
  Rng splitRng(o.seed, 1);
  auto [trainAll, test] = trainTestSplit(data, o.testFraction, splitRng, &res.testRows);
  Rng valRng(o.seed, 2);
  auto [trainSet, val] = trainTestSplit(trainAll, o.validationFraction, valRng);
  if (trainSet.size() == 0) return bad("no training samples left after the test/validation split");
  // Standardisation statistics from the training part only (no peeking at test data).
  Eigen::RowVectorXd mu = Eigen::RowVectorXd::Zero(data.numFeatures());
  Eigen::RowVectorXd sigma = Eigen::RowVectorXd::Ones(data.numFeatures());
  if (o.standardize) {
    mu = trainSet.X.colwise().mean();
    for (int j = 0; j < data.numFeatures(); ++j) {
      const double var = (trainSet.X.col(j).array() - mu[j]).square().mean();
      sigma[j] = var > 0 && std::isfinite(var) ? std::sqrt(var) : 1.0;
    }
    trainSet.X = (trainSet.X.rowwise() - mu).array().rowwise() / sigma.array();
    val.X = (val.X.rowwise() - mu).array().rowwise() / sigma.array();
  }
  const Eigen::MatrixXd trainTargets =
      o.loss == LossKind::Mse ? trainSet.targets() : Eigen::MatrixXd();
  res.trainSize = trainSet.size();
  res.validationSize = val.size();
  res.testSize = test.size();

  // Initialisation from stream 0.
  Rng initRng(o.seed, 0);
  std::vector<int> sizes{data.numFeatures()};
  sizes.insert(sizes.end(), o.widths.begin(), o.widths.end());
  sizes.push_back(K);
  Mlp& m = res.model;
  const size_t L = sizes.size() - 1;
  for (size_t l = 0; l < L; ++l) {
    const int in = sizes[l], out = sizes[l + 1];
    Eigen::MatrixXd W(out, in);
    const bool relu = l + 1 < L;
    const double he = std::sqrt(2.0 / in), glorot = std::sqrt(6.0 / (in + out));
    for (int i = 0; i < out; ++i)
      for (int j = 0; j < in; ++j)
        W(i, j) = relu ? he * initRng.normal() : glorot * (2.0 * initRng.uniform() - 1.0);
    m.W.push_back(std::move(W));
    m.b.push_back(Eigen::VectorXd::Zero(out));
  }
  OptState st;
  for (size_t l = 0; l < L; ++l) {
    st.mW.push_back(Eigen::MatrixXd::Zero(m.W[l].rows(), m.W[l].cols()));
    st.vW.push_back(Eigen::MatrixXd::Zero(m.W[l].rows(), m.W[l].cols()));
    st.mb.push_back(Eigen::VectorXd::Zero(m.b[l].size()));
    st.vb.push_back(Eigen::VectorXd::Zero(m.b[l].size()));
  }

  auto update = [&](auto& P, const auto& G, auto& M, auto& V) {
    if (o.optimizer == Optimizer::Sgd) {
      M = o.momentum * M + G;
      P -= o.lr * M;
    } else {
      M = o.beta1 * M + (1 - o.beta1) * G;
      V = o.beta2 * V + (1 - o.beta2) * G.cwiseProduct(G);
      const double c1 = 1 - std::pow(o.beta1, static_cast<double>(st.step));
      const double c2 = 1 - std::pow(o.beta2, static_cast<double>(st.step));
      P.array() -= o.lr * (M.array() / c1) / ((V.array() / c2).sqrt() + o.eps);
    }
  };

  Rng batchRng(o.seed, 3);
  Mlp best = m;
  double bestVal = std::numeric_limits<double>::infinity();
  int sinceBest = 0;
  std::vector<Eigen::MatrixXd> Hs(L + 1), Zs(L);
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    std::vector<int> order = permutation(batchRng, trainSet.size());
    for (int start = 0; start < trainSet.size(); start += o.batch) {
      // SIGINT, --time-limit, --memory (spec/run_control.h): no half-trained network.
      if (run::stopRequested()) return Error("stopped: " + run::stopMessage());
      const int B = std::min(o.batch, trainSet.size() - start);
      Eigen::MatrixXd Xb(B, trainSet.numFeatures());
      Eigen::VectorXd yb(B);
      Eigen::MatrixXd Tb(o.loss == LossKind::Mse ? B : 0, trainTargets.cols());
      for (int i = 0; i < B; ++i) {
        Xb.row(i) = trainSet.X.row(order[start + i]);
        yb[i] = trainSet.y[order[start + i]];
        if (Tb.rows() > 0) Tb.row(i) = trainTargets.row(order[start + i]);
      }
      // forward, keeping pre-activations
      Hs[0] = Xb;
      for (size_t l = 0; l < L; ++l) {
        Zs[l] = Hs[l] * m.W[l].transpose();
        Zs[l].rowwise() += m.b[l].transpose();
        Hs[l + 1] = l + 1 < L ? Eigen::MatrixXd(Zs[l].cwiseMax(0.0)) : Zs[l];
      }
      Eigen::MatrixXd dZ;
      lossAndGrad(Zs[L - 1], yb, Tb, o.loss, &dZ);
      ++st.step;
      for (size_t l = L; l-- > 0;) {
        Eigen::MatrixXd gW = dZ.transpose() * Hs[l];
        Eigen::VectorXd gb = dZ.colwise().sum().transpose();
        if (o.weightDecay > 0) gW += o.weightDecay * m.W[l];
        if (o.l1 > 0)
          gW += o.l1 * m.W[l].unaryExpr([](double w) { return double((w > 0) - (w < 0)); });
        if (l > 0) {
          Eigen::MatrixXd dH = dZ * m.W[l];
          dZ = dH.cwiseProduct((Zs[l - 1].array() > 0).cast<double>().matrix());
        }
        update(m.W[l], gW, st.mW[l], st.vW[l]);
        update(m.b[l], gb, st.mb[l], st.vb[l]);
      }
      if (o.live && (start / o.batch) % 16 == 15) {
        const int done = start + B, width = 30;
        const int filled = static_cast<int>(static_cast<long>(width) * done / trainSet.size());
        char buf[120];
        std::snprintf(buf, sizeof buf, "\repoch %d/%d [%s%s] %3d%%", epoch, o.epochs,
                      std::string(filled, '#').c_str(), std::string(width - filled, ' ').c_str(),
                      static_cast<int>(100L * done / trainSet.size()));
        *o.live << buf << std::flush;
      }
    }
    EpochStats s{epoch, 0, 0, kNaN, kNaN};
    std::tie(s.trainLoss, s.trainAccuracy) = evaluate(m, trainSet, o.loss);
    if (val.size() > 0) std::tie(s.valLoss, s.valAccuracy) = evaluate(m, val, o.loss);
    res.history.push_back(s);
    if (o.live) *o.live << "\r\033[K" << std::flush; // clear the live line
    if (o.progress) *o.progress << formatEpoch(s, o.epochs) << "\n" << std::flush;
    const double monitored = val.size() > 0 ? s.valLoss : s.trainLoss;
    if (monitored < bestVal) {
      bestVal = monitored;
      best = m;
      res.bestEpoch = epoch;
      sinceBest = 0;
    } else if (o.patience > 0 && val.size() > 0 && ++sinceBest >= o.patience) {
      if (o.progress)
        *o.progress << "early stop: no better validation loss for " << o.patience
                    << " epochs; keeping epoch " << res.bestEpoch << "\n";
      break;
    }
  }
  if (o.patience > 0 && val.size() > 0 && res.bestEpoch > 0) m = best;
  // Back to raw inputs; the test figures are those of the returned (folded) network, so that
  // evaluating the exported network on the test samples gives exactly these numbers.
  if (o.standardize) m = unstandardize(m, mu, sigma);
  if (test.size() > 0) {
    std::tie(res.testLoss, res.testAccuracy) = evaluate(m, test, o.loss);
  } else {
    res.testLoss = res.testAccuracy = kNaN;
  }
  return res;
}

} // namespace chassis::neural
