// Training multilayer perceptrons (ReLU hidden layers, linear output) by minibatch gradient
// descent, deterministic to the byte for a given seed: one thread, a fixed order of every
// floating-point reduction, initialisation and shuffling from chassis::Rng only.
//
// The maths. Layer l: Z_l = H_{l-1} W_l^T + 1 b_l^T, H_l = relu(Z_l) (hidden), output Z_L.
// Losses on a batch of B samples (penalties added to the gradient, not to the reported loss):
//   MSE (one output):  L = (1/B) sum_i (z_i - y_i)^2,                dZ_L = 2 (Z_L - Y) / B
//   softmax CE (K outputs, labels 0..K-1):
//                      L = -(1/B) sum_i log softmax(z_i)[y_i],  dZ_L = (softmax(Z_L) - onehot) / B
// Backward: dW_l = dZ_l^T H_{l-1}, db_l = dZ_l^T 1, dH_{l-1} = dZ_l W_l,
//           dZ_{l-1} = dH ⊙ [Z_{l-1} > 0].
// Penalties on the weights (not the biases): weight decay adds wd * W, L1 adds l1 * sign(W).
// SGD with momentum mu:  v = mu v + g,  W -= lr v.
// Adam (Kingma & Ba):   m = b1 m + (1-b1) g,  v = b2 v + (1-b2) g^2,
//                       W -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
// Initialisation: He normal N(0, 2/fan_in) for layers followed by ReLU, Glorot uniform
// U(-a, a), a = sqrt(6/(fan_in+fan_out)) for the output layer; biases 0.
// MSE onto a vector target (Dataset::Y, k columns):
//                      L = (1/B) sum_i ||z_i - y_i||^2,              dZ = 2 (Z - Y) / B
// Accuracy: argmax == label for CE; for MSE every |output - target| < 0.5 (meaningful for 0/1
// labels).
// Standardisation (TrainOptions::standardize): training runs on x' = (x - mu) / sigma (mu, sigma
// of the training part; sigma = 1 for a constant feature), and the result is folded back into the
// first layer, W1 <- W1 diag(1/sigma), b1 <- b1 - W1 diag(1/sigma) mu, so the returned network
// takes raw inputs and computes the same function (up to rounding). Inputs of very different
// scales (a distance in [0, 200] next to a probability) train much faster so.
#pragma once

#include "neural/dataset.h"
#include "neural/network.h"
#include "spec/error.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace chassis::neural {

enum class Optimizer { Sgd, Adam };
enum class LossKind { Mse, CrossEntropy };

struct Mlp {
  std::vector<Eigen::MatrixXd> W; // layer l: out x in
  std::vector<Eigen::VectorXd> b;

  /// One sample per row -> one output row per sample (logits for CE).
  Eigen::MatrixXd forward(const Eigen::MatrixXd& X) const;
  Network toNetwork(const std::string& name = "mlp") const { return makeMlp(W, b, name); }
};

struct TrainOptions {
  std::vector<int> widths; // hidden layer widths
  int epochs = 50;
  double lr = 1e-3;
  Optimizer optimizer = Optimizer::Adam;
  double momentum = 0.9;                         // SGD
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8; // Adam
  LossKind loss = LossKind::CrossEntropy;
  int batch = 32;
  uint64_t seed = 1;
  double l1 = 0, weightDecay = 0;
  double testFraction = 0.2;        // held out for the final test accuracy
  double validationFraction = 0.0;  // of the training part, for early stopping
  int patience = 0;                 // stop after this many epochs without a better validation
                                    // loss (0: never), and keep the best weights
  int numClasses = 0;               // CE: the number of classes K (0: max label + 1, at least 2)
  bool standardize = false;         // train on standardised inputs, folded back (see above)
  std::ostream* progress = nullptr; // one line per epoch when set (the CLI passes std::cerr)
  /// A live progress line rewritten in place ('\r', for a terminal) during each epoch; the
  /// per-epoch line (to `progress`) then overwrites it. Null: none.
  std::ostream* live = nullptr;
};

struct EpochStats {
  int epoch;
  double trainLoss, trainAccuracy;
  double valLoss, valAccuracy; // NaN without a validation set
};

struct TrainResult {
  Mlp model;
  int numClasses = 0; // CE: K; MSE: 0
  std::vector<EpochStats> history;
  int bestEpoch = 0;
  double testLoss = 0, testAccuracy = 0; // NaN when the test set is empty
  int trainSize = 0, validationSize = 0, testSize = 0;
  std::vector<int> testRows; // the held-out test samples' rows in the dataset
};

/// Splits `data` (test, then validation, by the options' fractions; shuffled from the seed),
/// trains, and evaluates on the test part. Errors on unusable data or options (e.g. non-integer
/// labels with cross-entropy), naming the offending row.
Expected<TrainResult> train(const Dataset& data, const TrainOptions& opts);

/// The per-epoch line written to TrainOptions::progress, e.g.
/// "epoch 3/30  loss 0.123456  accuracy 97.50%  val_loss 0.2  val_accuracy 96.00%".
std::string formatEpoch(const EpochStats& s, int epochs);

/// Loss and accuracy of network outputs `Z` (one row per sample of `d`) under the given loss.
std::pair<double, double> score(const Eigen::MatrixXd& Z, const Dataset& d, LossKind loss);

/// Loss and accuracy of `model` on `d` under the given loss (MSE onto d.targets()).
std::pair<double, double> evaluate(const Mlp& model, const Dataset& d, LossKind loss);

} // namespace chassis::neural
