// A feed-forward piecewise-linear network as a plain chain of affine layers, each optionally
// followed by ReLU. This is the form the verifier's bound propagation and branch-and-bound work
// on: layer k computes  y_k = W_k y_{k-1} + b_k,  then  y_k = max(y_k, 0)  if relu.  y_0 is the
// input (inputSize values), the output is the last layer's y. Double precision throughout, so
// bounds computed on it are not polluted by float32 rounding. Header-only and dependency-light
// (Eigen only) on purpose: the verifier includes it without pulling in ONNX or protobuf.
// An ONNX/NNet graph is turned into this form by toAffineNet (neural/network.h).
#pragma once

#include <Eigen/Dense>

#include <cassert>
#include <vector>

namespace chassis::neural {

/// y = W x + b, then max(y, 0) elementwise if relu. W is out x in.
struct AffineLayer {
  Eigen::MatrixXd W;
  Eigen::VectorXd b;
  bool relu = false;
};

struct AffineNet {
  int inputSize = 0;
  std::vector<AffineLayer> layers;

  /// Number of outputs: rows of the last layer, or inputSize when there are no layers.
  int outputSize() const {
    return layers.empty() ? inputSize : static_cast<int>(layers.back().W.rows());
  }

  /// The network's function on one input vector (size inputSize).
  Eigen::VectorXd forward(const Eigen::VectorXd& x) const {
    assert(x.size() == inputSize);
    Eigen::VectorXd y = x;
    for (const AffineLayer& L : layers) {
      Eigen::VectorXd z = L.W * y + L.b;
      if (L.relu) z = z.cwiseMax(0.0);
      y = std::move(z);
    }
    return y;
  }

  /// The function on a batch: one input per column (inputSize x n), one output per column.
  Eigen::MatrixXd forwardBatch(const Eigen::MatrixXd& X) const {
    assert(X.rows() == inputSize);
    Eigen::MatrixXd Y = X;
    for (const AffineLayer& L : layers) {
      Eigen::MatrixXd Z = L.W * Y;
      Z.colwise() += L.b;
      if (L.relu) Z = Z.cwiseMax(0.0);
      Y = std::move(Z);
    }
    return Y;
  }
};

} // namespace chassis::neural
