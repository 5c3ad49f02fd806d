// A TLL-shaped network (wide, mostly zero Linear layers chained without a ReLU between them,
// 0/1 selection and +-1 bank weights) through the whole loading path: written as ONNX, loaded
// (loadOnnx frees the file's bytes and each weight tensor once decoded), folded by toAffineNet
// (whose sparse layers are compressed straight from the weights' non-zeros) and bounded by the
// forward bounder (whose sparse layers are kept only in compressed form and shared between
// bounders). Each loaded form must equal the dense one: the weights and the folded matrices
// bit for bit (the sums are exact on these weights), the forward outputs in float64 exactly and
// in float32 to its rounding, and the forward bounds as those of the all-dense bounder up to
// the summation order, containing the values at sampled points.
#include "neural/network.h"
#include "neural/onnx.h"
#include "spec/rng.h"
#include "verifier/bounds.h"
#include "verifier/nv_forward.h"

#include "scratch_dir_test_util.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>

using namespace chassis;
using namespace chassis::verifier;
using neural::Layer;
using neural::LayerKind;
using neural::Network;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

Layer linear(int in, int out, MatrixXd W, Eigen::RowVectorXd bias) {
  Layer L;
  L.kind = LayerKind::Linear;
  L.opType = "MatMul";
  L.name = "linear" + std::to_string(out);
  L.input = in;
  L.output = out;
  L.outShape = {W.cols()};
  L.W = std::move(W);
  L.bias = std::move(bias);
  return L;
}

Layer relu(int in, int out, int64_t width) {
  Layer L;
  L.kind = LayerKind::Relu;
  L.opType = "Relu";
  L.name = "relu" + std::to_string(out);
  L.input = in;
  L.output = out;
  L.outShape = {width};
  return L;
}

/// A small two-input TLL-like network: 2 -> 8 (dense, dyadic), a 0/1 selection 8 -> 96, a +-1
/// bank 96 -> 128 then ReLU, a 0/1 bank 128 -> 64 and a +-1 selection 64 -> 48 then ReLU, and a
/// dense 48 -> 2. The wide layers are under 10% non-zero; every weight and bias is a multiple of
/// 1/8 of magnitude at most 4, so float32 stores them exactly and every sum of the folding is
/// exact.
Network tllLikeNetwork(Rng& rng) {
  auto dyadic = [&](double mag) { return std::round((2 * rng.uniform() - 1) * mag * 8) / 8; };
  auto dense = [&](Eigen::Index k, Eigen::Index n) {
    MatrixXd W(k, n);
    for (Eigen::Index i = 0; i < W.size(); ++i)
      W.data()[i] = dyadic(2.0);
    return W;
  };
  // Each output column picks `per` inputs, weight +1 (signs) or +-1.
  auto selection = [&](Eigen::Index k, Eigen::Index n, int per, bool signs) {
    MatrixXd W = MatrixXd::Zero(k, n);
    for (Eigen::Index j = 0; j < n; ++j)
      for (int p = 0; p < per; ++p) {
        const auto i = static_cast<Eigen::Index>(rng.uniform() * double(k)) % k;
        W(i, j) = signs && rng.uniform() < 0.5 ? -1.0 : 1.0;
      }
    return W;
  };
  auto bias = [&](Eigen::Index n) {
    Eigen::RowVectorXd b(n);
    for (Eigen::Index j = 0; j < n; ++j)
      b[j] = dyadic(1.0);
    return b;
  };
  Network net;
  net.name = "tll-like";
  net.inputShape = {2};
  net.layers.push_back(linear(0, 1, dense(2, 8), bias(8)));
  net.layers.push_back(linear(1, 2, selection(8, 96, 1, false), Eigen::RowVectorXd()));
  net.layers.push_back(linear(2, 3, selection(96, 128, 3, true), bias(128)));
  net.layers.push_back(relu(3, 4, 128));
  net.layers.push_back(linear(4, 5, selection(128, 64, 2, false), bias(64)));
  net.layers.push_back(linear(5, 6, selection(64, 48, 4, true), bias(48)));
  net.layers.push_back(relu(6, 7, 48));
  net.layers.push_back(linear(7, 8, dense(48, 2), bias(2)));
  net.outputValue = 8;
  net.finalize();
  return net;
}

/// The dense fold of a chain of Linear layers (x W + b, ReLU where the network has one) into
/// AffineNet form by plain dense products: the reference toAffineNet's sparse path must match.
neural::AffineNet denseFold(const Network& net) {
  neural::AffineNet out;
  out.inputSize = net.inputSize();
  MatrixXd A;
  VectorXd c;
  bool identity = true;
  for (const Layer& L : net.layers) {
    if (L.kind == LayerKind::Relu) {
      out.layers.push_back({A, c, true});
      identity = true;
      continue;
    }
    const MatrixXd M = L.W.transpose();
    const VectorXd d = L.bias.size() ? VectorXd(L.bias.transpose()) : VectorXd::Zero(M.rows());
    if (identity) {
      A = M;
      c = d;
    } else {
      A = M * A;
      c = M * c + d;
    }
    identity = false;
  }
  if (!identity) out.layers.push_back({A, c, false});
  return out;
}

bool sameBits(const MatrixXd& a, const MatrixXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && (a.array() == b.array()).all();
}

} // namespace

TEST_CASE("a sparse TLL-like ONNX network loads and folds to the dense path's weights and "
          "outputs",
          "[verifier][onnx][sparse]") {
  Rng rng(2024);
  const Network src = tllLikeNetwork(rng);
  const std::string path = testing::scratchDirectory("sparse_onnx_load") + "/tll_like.onnx";
  REQUIRE(neural::saveOnnx(src, path));
  auto loaded = neural::loadOnnx(path);
  REQUIRE(loaded);
  // The weights, bit for bit (MatMul + Add: the bias arrives as its own Add layer).
  std::vector<const Layer*> lin;
  for (const Layer& L : loaded->layers)
    if (L.kind == LayerKind::Linear) lin.push_back(&L);
  size_t li = 0;
  for (const Layer& L : src.layers) {
    if (L.kind != LayerKind::Linear) continue;
    REQUIRE(li < lin.size());
    CHECK(sameBits(lin[li]->W, L.W));
    ++li;
  }
  CHECK(li == lin.size());

  auto folded = neural::toAffineNet(*loaded);
  REQUIRE(folded);
  const neural::AffineNet ref = denseFold(src);
  REQUIRE(folded->layers.size() == ref.layers.size());
  for (size_t k = 0; k < ref.layers.size(); ++k) {
    CHECK(sameBits(folded->layers[k].W, ref.layers[k].W));
    CHECK(sameBits(folded->layers[k].b, ref.layers[k].b));
    CHECK(folded->layers[k].relu == ref.layers[k].relu);
  }
  // The folded wide layer is still mostly zeros: the sparse paths below are the ones exercised.
  const MatrixXd& W1 = folded->layers[1].W;
  REQUIRE(W1.size() >= 4096);
  REQUIRE(10 * (W1.array() != 0.0).count() < W1.size());

  // Forward outputs: the source network, the loaded one and the folded one in float64 (exact
  // arithmetic on these weights and inputs, multiples of 1/64), the loaded one in float32
  // (copies made on its first pass).
  MatrixXd X(16, 2);
  for (Eigen::Index i = 0; i < X.size(); ++i)
    X.data()[i] = std::round((2 * rng.uniform() - 1) * 64) / 64;
  const MatrixXd Ysrc = src.forward(X), Yload = loaded->forward(X);
  CHECK(sameBits(Ysrc, Yload));
  CHECK(sameBits(folded->forwardBatch(X.transpose()).transpose(), Ysrc));
  CHECK(loaded->layers.front().WF.size() == 0); // no float32 copy before a float32 pass
  const Eigen::MatrixXf Y32 = loaded->forward(Eigen::MatrixXf(X.cast<float>()));
  CHECK(loaded->layers.front().WF.size() > 0);
  CHECK((Y32.cast<double>() - Ysrc).cwiseAbs().maxCoeff() <=
        1e-4 * (1.0 + Ysrc.cwiseAbs().maxCoeff()));
  // A copy of the network made after its float32 pass has the copies too; one refinalised
  // drops them and remakes them on its next pass, with the same results.
  Network copy = *loaded;
  CHECK(sameBits(copy.forward(Eigen::MatrixXf(X.cast<float>())).cast<double>(),
                 Y32.cast<double>()));
  copy.finalize();
  CHECK(copy.layers.front().WF.size() == 0);
  CHECK(sameBits(copy.forward(Eigen::MatrixXf(X.cast<float>())).cast<double>(),
                 Y32.cast<double>()));
}

TEST_CASE("forward bounds through compressed-only shared weights equal the dense bounder's",
          "[verifier][bounds][sparse]") {
  Rng rng(7);
  const Network src = tllLikeNetwork(rng);
  auto foldedOr = neural::toAffineNet(src);
  REQUIRE(foldedOr);
  const neural::AffineNet& net = *foldedOr;
  auto sparseW = std::make_shared<const ForwardWeights>(net);
  auto denseW = std::make_shared<const ForwardWeights>(net, false);
  bool anySparse = false;
  for (size_t k = 0; k < net.layers.size(); ++k) {
    CHECK_FALSE(denseW->sparse(k));
    anySparse = anySparse || sparseW->sparse(k);
  }
  REQUIRE(anySparse);
  ForwardBounder a(sparseW), b(sparseW), dense(denseW);
  CHECK(a.hasSparseLayer());
  CHECK_FALSE(dense.hasSparseLayer());
  int violations = 0, compared = 0;
  for (int t = 0; t < 8; ++t) {
    Box box{VectorXd(2), VectorXd(2)};
    for (int i = 0; i < 2; ++i) {
      box.lo[i] = 2 * rng.uniform() - 1;
      box.hi[i] = box.lo[i] + 0.1 + 0.6 * rng.uniform();
    }
    NetBounds na, nb, nd;
    a.bound(box, na);
    b.bound(box, nb);
    dense.bound(box, nd);
    for (size_t k = 0; k < net.layers.size(); ++k) {
      // Two bounders sharing the weights compute the same bits.
      CHECK(sameBits(na.lo[k], nb.lo[k]));
      CHECK(sameBits(na.hi[k], nb.hi[k]));
      // Sparse against dense products: the same terms (exact zeros aside), another order.
      const double scale = 1.0 + nd.lo[k].cwiseAbs().maxCoeff() + nd.hi[k].cwiseAbs().maxCoeff();
      CHECK((na.lo[k] - nd.lo[k]).cwiseAbs().maxCoeff() <= 1e-12 * scale);
      CHECK((na.hi[k] - nd.hi[k]).cwiseAbs().maxCoeff() <= 1e-12 * scale);
      ++compared;
    }
    // refine() through the shared row and column copies, against the dense bounder's.
    a.refine(box, na);
    dense.refine(box, nd);
    for (size_t k = 0; k < net.layers.size(); ++k) {
      const double scale = 1.0 + nd.lo[k].cwiseAbs().maxCoeff() + nd.hi[k].cwiseAbs().maxCoeff();
      CHECK((na.lo[k] - nd.lo[k]).cwiseAbs().maxCoeff() <= 1e-12 * scale);
      CHECK((na.hi[k] - nd.hi[k]).cwiseAbs().maxCoeff() <= 1e-12 * scale);
    }
    for (int s = 0; s < 300; ++s) {
      VectorXd x(2);
      for (int i = 0; i < 2; ++i)
        x[i] = std::clamp(box.lo[i] + rng.uniform() * (box.hi[i] - box.lo[i]), box.lo[i],
                          box.hi[i]);
      VectorXd y = x;
      for (size_t k = 0; k < net.layers.size(); ++k) {
        VectorXd h = net.layers[k].W * y + net.layers[k].b;
        for (Eigen::Index j = 0; j < h.size(); ++j)
          if (h[j] < na.lo[k][j] || h[j] > na.hi[k][j]) ++violations;
        y = net.layers[k].relu ? VectorXd(h.cwiseMax(0.0)) : h;
      }
    }
  }
  CHECK(compared > 0);
  CHECK(violations == 0);
}
