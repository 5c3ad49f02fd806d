// ONNX import of the convolutional and activation operations (Conv, BatchNormalization,
// AveragePool, MaxPool, the global pools, Concat, Dropout, Sigmoid, Tanh). Each model is built
// here with the protobuf classes; its forward pass is checked against a reference computed in
// the test with naive loops over the NCHW sample, and each refused attribute against its located
// message.
#ifndef ONNX_ML
#define ONNX_ML 1 // as libonnx's CMake package defines it (the test does not link onnx directly)
#endif
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#include <onnx/onnx_pb.h>

#include "neural/onnx.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

using namespace chassis::neural;

namespace {

/// A model under construction: one input [N, C, H, W] (or [N, F]) and one output "y".
struct ModelBuilder {
  onnx::ModelProto m;
  onnx::GraphProto* g;
  explicit ModelBuilder(std::vector<int64_t> sample) {
    m.set_ir_version(7);
    m.add_opset_import()->set_version(13);
    g = m.mutable_graph();
    auto* v = g->add_input();
    v->set_name("x");
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_param("N");
    for (int64_t d : sample)
      tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  void tensor(const std::string& name, std::vector<int64_t> dims, const std::vector<float>& v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims)
      t->add_dims(d);
    for (float f : v)
      t->add_float_data(f);
  }
  void ints(const std::string& name, const std::vector<int64_t>& v) {
    auto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    t->add_dims(static_cast<int64_t>(v.size()));
    for (int64_t i : v)
      t->add_int64_data(i);
  }
  onnx::NodeProto* node(const std::string& op, const std::string& name,
                        std::vector<std::string> ins, const std::string& out) {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto& s : ins)
      n->add_input(s);
    n->add_output(out);
    return n;
  }
  std::string bytes(const std::string& output = "y") {
    g->add_output()->set_name(output);
    std::string b;
    REQUIRE(m.SerializeToString(&b));
    return b;
  }
};

void intsAttr(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t i : v)
    a->add_ints(i);
}
void intAttr(onnx::NodeProto* n, const std::string& name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
void strAttr(onnx::NodeProto* n, const std::string& name, const std::string& v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

/// Values exactly representable in float32 (so the float initialisers are the reference's).
std::vector<float> randomValues(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(-64, 64);
  std::vector<float> v(n);
  for (float& f : v)
    f = static_cast<float>(d(rng)) / 32.0f;
  return v;
}

Eigen::MatrixXd randomInputs(int rows, int cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> d(-1, 1);
  Eigen::MatrixXd X(rows, cols);
  for (Eigen::Index i = 0; i < X.size(); ++i)
    X.data()[i] = d(rng);
  return X;
}

Network load(const std::string& bytes) {
  auto net = parseOnnx(bytes, "net.onnx");
  if (!net) FAIL(net.error().str());
  return std::move(*net);
}

std::string errorOf(const std::string& bytes) {
  auto net = parseOnnx(bytes, "net.onnx");
  REQUIRE(!net);
  return net.error().str();
}

/// A [C, H, W] sample as nested indexing over a flat row.
struct Image {
  int64_t C, H, W;
  std::vector<double> v;
  double at(int64_t c, int64_t h, int64_t w) const { return v[(c * H + h) * W + w]; }
  bool inside(int64_t h, int64_t w) const { return h >= 0 && h < H && w >= 0 && w < W; }
};

/// Naive 2-D convolution (group = 1 or more) of one sample.
std::vector<double> naiveConv(const Image& x, const std::vector<float>& w, int64_t M, int64_t kH,
                              int64_t kW, const std::vector<float>& b, int64_t group, int64_t sH,
                              int64_t sW, int64_t pT, int64_t pL, int64_t pB, int64_t pR,
                              int64_t dH, int64_t dW) {
  const int64_t Cg = x.C / group, Mg = M / group;
  const int64_t oH = (x.H + pT + pB - (kH - 1) * dH - 1) / sH + 1;
  const int64_t oW = (x.W + pL + pR - (kW - 1) * dW - 1) / sW + 1;
  std::vector<double> y;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t oh = 0; oh < oH; ++oh)
      for (int64_t ow = 0; ow < oW; ++ow) {
        double s = b.empty() ? 0.0 : b[m];
        for (int64_t c = 0; c < Cg; ++c)
          for (int64_t i = 0; i < kH; ++i)
            for (int64_t j = 0; j < kW; ++j) {
              const int64_t h = oh * sH - pT + i * dH, ww = ow * sW - pL + j * dW;
              if (x.inside(h, ww))
                s += double(w[((m * Cg + c) * kH + i) * kW + j]) * x.at((m / Mg) * Cg + c, h, ww);
            }
        y.push_back(s);
      }
  return y;
}

/// Naive 2-D pooling (max, or average over the in-bounds taps or all kH*kW taps).
enum class PoolKind { Max, AvgInBounds, AvgIncludePad };
std::vector<double> naivePool(const Image& x, PoolKind kind, int64_t kH, int64_t kW, int64_t sH,
                              int64_t sW, int64_t pT, int64_t pL, int64_t pB, int64_t pR) {
  const int64_t oH = (x.H + pT + pB - kH) / sH + 1, oW = (x.W + pL + pR - kW) / sW + 1;
  std::vector<double> y;
  for (int64_t c = 0; c < x.C; ++c)
    for (int64_t oh = 0; oh < oH; ++oh)
      for (int64_t ow = 0; ow < oW; ++ow) {
        double mx = -std::numeric_limits<double>::infinity(), sum = 0;
        int count = 0;
        for (int64_t i = 0; i < kH; ++i)
          for (int64_t j = 0; j < kW; ++j) {
            const int64_t h = oh * sH - pT + i, w = ow * sW - pL + j;
            if (!x.inside(h, w)) continue;
            mx = std::max(mx, x.at(c, h, w));
            sum += x.at(c, h, w);
            ++count;
          }
        y.push_back(kind == PoolKind::Max           ? mx
                    : kind == PoolKind::AvgInBounds ? sum / count
                                                    : sum / double(kH * kW));
      }
  return y;
}

Image sampleOf(const Eigen::MatrixXd& X, Eigen::Index row, int64_t C, int64_t H, int64_t W) {
  Image im{C, H, W, {}};
  for (Eigen::Index j = 0; j < X.cols(); ++j)
    im.v.push_back(X(row, j));
  return im;
}

/// Every row of net.forward(X) against ref(sample), to a relative 1e-12 (the importer sums in
/// another order than the naive loops).
template <typename Ref>
void checkForward(const Network& net, const Eigen::MatrixXd& X, int64_t C, int64_t H, int64_t W,
                  Ref ref) {
  const Eigen::MatrixXd Y = net.forward(X);
  for (Eigen::Index r = 0; r < X.rows(); ++r) {
    const std::vector<double> want = ref(sampleOf(X, r, C, H, W));
    REQUIRE(static_cast<Eigen::Index>(want.size()) == Y.cols());
    for (size_t j = 0; j < want.size(); ++j)
      CHECK(Y(r, static_cast<Eigen::Index>(j)) == Approx(want[j]).epsilon(1e-12).margin(1e-12));
  }
  // float32 agrees to float32 rounding.
  const Eigen::MatrixXf Yf = net.forward(Eigen::MatrixXf(X.cast<float>()));
  CHECK((Yf.cast<double>() - Y).cwiseAbs().maxCoeff() < 1e-4 * (1 + Y.cwiseAbs().maxCoeff()));
}

} // namespace

TEST_CASE("Conv matches a naive convolution", "[neural][onnx][conv]") {
  SECTION("strides, asymmetric pads and dilations") {
    ModelBuilder mb({2, 5, 6});
    const auto w = randomValues(3 * 2 * 3 * 2, 1), b = randomValues(3, 2);
    mb.tensor("w", {3, 2, 3, 2}, w);
    mb.tensor("b", {3}, b);
    auto* n = mb.node("Conv", "conv", {"x", "w", "b"}, "y");
    intsAttr(n, "strides", {2, 1});
    intsAttr(n, "pads", {1, 0, 0, 2});
    intsAttr(n, "dilations", {1, 2});
    Network net = load(mb.bytes());
    CHECK(net.outputShape() == Shape{3, 2, 6});
    checkForward(net, randomInputs(4, 60, 3), 2, 5, 6, [&](const Image& x) {
      return naiveConv(x, w, 3, 3, 2, b, 1, 2, 1, 1, 0, 0, 2, 1, 2);
    });
  }
  SECTION("groups, no bias, kernel_shape given") {
    ModelBuilder mb({4, 4, 4});
    const auto w = randomValues(6 * 2 * 2 * 2, 4);
    mb.tensor("w", {6, 2, 2, 2}, w);
    auto* n = mb.node("Conv", "conv", {"x", "w"}, "y");
    intAttr(n, "group", 2);
    intsAttr(n, "kernel_shape", {2, 2});
    Network net = load(mb.bytes());
    CHECK(net.outputShape() == Shape{6, 3, 3});
    checkForward(net, randomInputs(3, 64, 5), 4, 4, 4, [&](const Image& x) {
      return naiveConv(x, w, 6, 2, 2, {}, 2, 1, 1, 0, 0, 0, 0, 1, 1);
    });
  }
  SECTION("auto_pad SAME_UPPER keeps the spatial size at stride 1") {
    ModelBuilder mb({1, 4, 5});
    const auto w = randomValues(2 * 1 * 2 * 3, 6);
    mb.tensor("w", {2, 1, 2, 3}, w);
    strAttr(mb.node("Conv", "conv", {"x", "w"}, "y"), "auto_pad", "SAME_UPPER");
    Network net = load(mb.bytes());
    CHECK(net.outputShape() == Shape{2, 4, 5});
    // total pads: H 1 (0 before, 1 after), W 2 (1 and 1)
    checkForward(net, randomInputs(2, 20, 7), 1, 4, 5, [&](const Image& x) {
      return naiveConv(x, w, 2, 2, 3, {}, 1, 1, 1, 0, 1, 1, 1, 1, 1);
    });
  }
}

TEST_CASE("BatchNormalization after Conv is the per-channel affine map", "[neural][onnx][conv]") {
  ModelBuilder mb({2, 3, 3});
  const auto w = randomValues(2 * 2 * 2 * 2, 8), b = randomValues(2, 9);
  mb.tensor("w", {2, 2, 2, 2}, w);
  mb.tensor("b", {2}, b);
  mb.tensor("scale", {2}, {1.5f, -0.5f});
  mb.tensor("shift", {2}, {0.25f, 2.0f});
  mb.tensor("mean", {2}, {0.5f, -1.0f});
  mb.tensor("var", {2}, {4.0f, 0.25f});
  mb.node("Conv", "conv", {"x", "w", "b"}, "c");
  auto* bn = mb.node("BatchNormalization", "bn", {"c", "scale", "shift", "mean", "var"}, "z");
  auto* eps = bn->add_attribute();
  eps->set_name("epsilon");
  eps->set_type(onnx::AttributeProto::FLOAT);
  eps->set_f(0.0f);
  mb.node("Relu", "relu", {"z"}, "y");
  Network net = load(mb.bytes());
  const double sc[] = {1.5, -0.5}, sh[] = {0.25, 2.0}, mu[] = {0.5, -1.0}, sd[] = {2.0, 0.5};
  checkForward(net, randomInputs(3, 18, 10), 2, 3, 3, [&](const Image& x) {
    std::vector<double> y = naiveConv(x, w, 2, 2, 2, b, 1, 1, 1, 0, 0, 0, 0, 1, 1);
    for (size_t i = 0; i < y.size(); ++i) {
      const size_t c = i / 4;
      y[i] = std::max(0.0, sc[c] * (y[i] - mu[c]) / sd[c] + sh[c]);
    }
    return y;
  });
  // The engine's form folds the scale and shift into the Conv's affine layer: one ReLU layer,
  // then the (empty) output map.
  auto affine = toAffineNet(net);
  REQUIRE(affine);
  CHECK(affine->layers.size() == 1);
  CHECK(affine->layers[0].relu);
}

TEST_CASE("AveragePool and MaxPool match naive pooling", "[neural][onnx][pool]") {
  const Eigen::MatrixXd X = randomInputs(4, 2 * 5 * 5, 11);
  SECTION("AveragePool over the in-bounds taps") {
    ModelBuilder mb({2, 5, 5});
    auto* n = mb.node("AveragePool", "pool", {"x"}, "y");
    intsAttr(n, "kernel_shape", {3, 2});
    intsAttr(n, "strides", {2, 2});
    intsAttr(n, "pads", {1, 1, 1, 0});
    Network net = load(mb.bytes());
    CHECK(net.outputShape() == Shape{2, 3, 3});
    checkForward(net, X, 2, 5, 5, [](const Image& x) {
      return naivePool(x, PoolKind::AvgInBounds, 3, 2, 2, 2, 1, 1, 1, 0);
    });
  }
  SECTION("AveragePool with count_include_pad") {
    ModelBuilder mb({2, 5, 5});
    auto* n = mb.node("AveragePool", "pool", {"x"}, "y");
    intsAttr(n, "kernel_shape", {2, 2});
    intsAttr(n, "pads", {1, 1, 1, 1});
    intAttr(n, "count_include_pad", 1);
    Network net = load(mb.bytes());
    checkForward(net, X, 2, 5, 5, [](const Image& x) {
      return naivePool(x, PoolKind::AvgIncludePad, 2, 2, 1, 1, 1, 1, 1, 1);
    });
  }
  SECTION("GlobalAveragePool") {
    ModelBuilder mb({2, 5, 5});
    mb.node("GlobalAveragePool", "gap", {"x"}, "y");
    Network net = load(mb.bytes());
    CHECK(net.outputShape() == Shape{2, 1, 1});
    checkForward(net, X, 2, 5, 5, [](const Image& x) {
      return naivePool(x, PoolKind::AvgInBounds, 5, 5, 1, 1, 0, 0, 0, 0);
    });
  }
  SECTION("MaxPool with pads: windows of 4 to 9 taps, lowered to ReLUs") {
    ModelBuilder mb({2, 5, 5});
    auto* n = mb.node("MaxPool", "pool", {"x"}, "y");
    intsAttr(n, "kernel_shape", {3, 3});
    intsAttr(n, "strides", {2, 2});
    intsAttr(n, "pads", {1, 1, 1, 1});
    Network net = load(mb.bytes());
    CHECK(net.outputShape() == Shape{2, 3, 3});
    checkForward(net, X, 2, 5, 5, [](const Image& x) {
      return naivePool(x, PoolKind::Max, 3, 3, 2, 2, 1, 1, 1, 1);
    });
    // It stays an affine/ReLU chain: ceil(log2(9)) = 4 rounds of ReLUs, then the output map.
    auto affine = toAffineNet(net);
    REQUIRE(affine);
    CHECK(affine->layers.size() == 5);
    for (Eigen::Index r = 0; r < X.rows(); ++r) {
      const Eigen::VectorXd want = net.forward(Eigen::VectorXd(X.row(r).transpose()));
      CHECK((affine->forward(X.row(r).transpose()) - want).cwiseAbs().maxCoeff() < 1e-12);
    }
  }
  SECTION("GlobalMaxPool, with ties") {
    ModelBuilder mb({2, 5, 5});
    mb.node("GlobalMaxPool", "gmp", {"x"}, "y");
    Network net = load(mb.bytes());
    CHECK(net.outputShape() == Shape{2, 1, 1});
    Eigen::MatrixXd Xt = X;
    Xt.row(0).setConstant(-0.75); // all taps tie
    checkForward(net, Xt, 2, 5, 5, [](const Image& x) {
      return naivePool(x, PoolKind::Max, 5, 5, 1, 1, 0, 0, 0, 0);
    });
  }
}

TEST_CASE("Concat of Conv branches over one input stays a chain", "[neural][onnx][concat]") {
  ModelBuilder mb({1, 4, 4});
  const auto w1 = randomValues(2 * 1 * 3 * 3, 12), w2 = randomValues(1 * 1 * 1 * 1, 13);
  const auto b1 = randomValues(2, 14);
  mb.tensor("w1", {2, 1, 3, 3}, w1);
  mb.tensor("b1", {2}, b1);
  mb.tensor("w2", {1, 1, 1, 1}, w2);
  intsAttr(mb.node("Conv", "conv1", {"x", "w1", "b1"}, "a"), "pads", {1, 1, 1, 1});
  mb.node("Conv", "conv2", {"x", "w2"}, "b");
  intAttr(mb.node("Concat", "cat", {"a", "x", "b"}, "c"), "axis", 1);
  mb.node("Relu", "relu", {"c"}, "y");
  Network net = load(mb.bytes());
  CHECK(net.outputShape() == Shape{4, 4, 4});
  checkForward(net, randomInputs(3, 16, 15), 1, 4, 4, [&](const Image& x) {
    std::vector<double> y = naiveConv(x, w1, 2, 3, 3, b1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    for (double v : x.v)
      y.push_back(v);
    for (double v : naiveConv(x, w2, 1, 1, 1, {}, 1, 1, 1, 0, 0, 0, 0, 1, 1))
      y.push_back(v);
    for (double& v : y)
      v = std::max(v, 0.0);
    return y;
  });
  CHECK(toAffineNet(net));
}

TEST_CASE("Concat along an inner axis interleaves the branches", "[neural][onnx][concat]") {
  ModelBuilder mb({2, 3});
  mb.tensor("w", {3, 2}, {1, 2, 3, 4, 5, 6});
  mb.node("MatMul", "mm", {"x", "w"}, "a"); // [2, 3] -> [2, 2]
  intAttr(mb.node("Concat", "cat", {"x", "a"}, "y"), "axis", 2);
  Network net = load(mb.bytes());
  CHECK(net.outputShape() == Shape{2, 5});
  Eigen::MatrixXd X(1, 6);
  X << 1, 2, 3, 4, 5, 6;
  Eigen::MatrixXd want(1, 10);
  want << 1, 2, 3, 22, 28, 4, 5, 6, 49, 64;
  CHECK(net.forward(X) == want);
}

TEST_CASE("Sigmoid, Tanh, Dropout: forward pass; the verifier refuses the first two",
          "[neural][onnx][activation]") {
  ModelBuilder mb({4});
  mb.tensor("w", {4, 3}, randomValues(12, 16));
  mb.node("Gemm", "fc", {"x", "w"}, "h");
  mb.node("Sigmoid", "sig", {"h"}, "s");
  mb.node("Dropout", "drop", {"s"}, "d");
  mb.node("Tanh", "tanh", {"d"}, "y");
  Network net = load(mb.bytes());
  const auto w = randomValues(12, 16);
  const Eigen::MatrixXd X = randomInputs(5, 4, 17);
  const Eigen::MatrixXd Y = net.forward(X);
  for (Eigen::Index r = 0; r < X.rows(); ++r)
    for (int j = 0; j < 3; ++j) {
      double h = 0;
      for (int k = 0; k < 4; ++k)
        h += X(r, k) * w[k * 3 + j];
      CHECK(Y(r, j) == Approx(std::tanh(1.0 / (1.0 + std::exp(-h)))).epsilon(1e-14));
    }
  auto affine = toAffineNet(net);
  REQUIRE(!affine);
  CHECK(affine.error().str() ==
        "net.onnx: error: node 'sig' (Sigmoid): Sigmoid is not supported by the verifier yet (its "
        "bounds handle ReLU networks only; the forward pass, e.g. chassis eval, computes it)");
  // Saturation: no NaN at the extremes.
  ModelBuilder mb2({2});
  mb2.node("Sigmoid", "sig", {"x"}, "y");
  Network sig = load(mb2.bytes());
  Eigen::MatrixXd E(1, 2);
  E << -1e6, 1e6;
  CHECK(sig.forward(E) == Eigen::MatrixXd(Eigen::RowVector2d(0.0, 1.0)));
}

TEST_CASE("a lowered conv net survives export and import", "[neural][onnx][conv]") {
  ModelBuilder mb({1, 4, 4});
  mb.tensor("w", {2, 1, 2, 2}, randomValues(8, 18));
  mb.tensor("b", {2}, randomValues(2, 19));
  mb.tensor("fc", {4, 3}, randomValues(12, 20));
  intsAttr(mb.node("Conv", "conv", {"x", "w", "b"}, "c"), "strides", {2, 2});
  mb.node("Relu", "relu", {"c"}, "r");
  auto* mp = mb.node("MaxPool", "pool", {"r"}, "p");
  intsAttr(mp, "kernel_shape", {2, 1});
  mb.node("Flatten", "flat", {"p"}, "f");
  mb.node("Gemm", "gemm", {"f", "fc"}, "y");
  Network net = load(mb.bytes());
  auto bytes = serializeOnnx(net);
  REQUIRE(bytes);
  Network back = load(*bytes);
  const Eigen::MatrixXd X = randomInputs(6, 16, 21);
  CHECK(back.forward(X) == net.forward(X));
  CHECK(back.outputShape() == net.outputShape());
}

TEST_CASE("bad convolution and pooling attributes give located errors", "[neural][onnx][bad]") {
  auto convModel = [](auto&& edit) {
    ModelBuilder mb({2, 4, 4});
    mb.tensor("w", {2, 2, 2, 2}, randomValues(16, 22));
    auto* n = mb.node("Conv", "conv", {"x", "w"}, "y");
    edit(mb, n);
    return mb.bytes();
  };
  CHECK(errorOf(convModel([](ModelBuilder&, onnx::NodeProto* n) { intAttr(n, "group", 2); })) ==
        "net.onnx: error: node 'conv' (Conv): group=2 with a weight of shape [2,2,2,2] does not "
        "fit an input with 2 channels");
  CHECK(errorOf(convModel([](ModelBuilder&, onnx::NodeProto* n) {
          intsAttr(n, "pads", {1, 1});
        })) == "net.onnx: error: node 'conv' (Conv): pads [1,1]: expected 4 values (2-D)");
  CHECK(errorOf(convModel([](ModelBuilder&, onnx::NodeProto* n) {
          intsAttr(n, "strides", {0, 1});
        })) == "net.onnx: error: node 'conv' (Conv): strides [0,1]: expected two values in [1, "
               "65536]");
  CHECK(
      errorOf(convModel([](ModelBuilder&, onnx::NodeProto* n) {
        intsAttr(n, "kernel_shape", {3, 3});
      })) ==
      "net.onnx: error: node 'conv' (Conv): kernel_shape [3,3] does not match the weight's [2,2]");
  CHECK(errorOf(convModel([](ModelBuilder&, onnx::NodeProto* n) {
          strAttr(n, "auto_pad", "SOMETIMES");
        })) == "net.onnx: error: node 'conv' (Conv): auto_pad 'SOMETIMES' is not supported");
  CHECK(errorOf(convModel([](ModelBuilder&, onnx::NodeProto* n) {
          intsAttr(n, "dilations", {4, 1});
        })) == "net.onnx: error: node 'conv' (Conv): the kernel [2,2] with dilations [4,1] spans "
               "[5,2], more than the padded input [4,4]");
  CHECK(errorOf(convModel([](ModelBuilder& mb, onnx::NodeProto* n) {
          mb.tensor("b", {3}, {1, 2, 3});
          n->add_input("b");
        })) == "net.onnx: error: node 'conv' (Conv): bias of shape [3] for 2 output channels");
  {
    ModelBuilder mb({2, 4, 4});
    mb.node("Flatten", "flat", {"x"}, "f");
    mb.tensor("w", {2, 2, 2, 2}, randomValues(16, 23));
    mb.node("Conv", "conv", {"f", "w"}, "y");
    CHECK(errorOf(mb.bytes()) == "net.onnx: error: node 'conv' (Conv): input of shape [32] per "
                                 "sample: only 2-D inputs (N x C x H x W) are supported");
  }
  {
    ModelBuilder mb({1, 5, 5});
    auto* n = mb.node("MaxPool", "pool", {"x"}, "y");
    intsAttr(n, "kernel_shape", {2, 2});
    intsAttr(n, "strides", {2, 2});
    intAttr(n, "ceil_mode", 1);
    CHECK(errorOf(mb.bytes()) == "net.onnx: error: node 'pool' (MaxPool): ceil_mode=1 with a "
                                 "partial last window is not supported");
  }
  {
    // Huge pads: refused before any window is walked (no hang).
    ModelBuilder mb({1, 5, 5});
    auto* n = mb.node("MaxPool", "pool", {"x"}, "y");
    intsAttr(n, "kernel_shape", {60000, 60000});
    intsAttr(n, "pads", {60000, 60000, 60000, 60000});
    CHECK(errorOf(mb.bytes()) ==
          "net.onnx: error: node 'pool' (MaxPool): lowered to a dense 25 x 3600720036 affine "
          "layer, more than the 33554432 entries the importer allows");
  }
  {
    ModelBuilder mb({1, 5, 5});
    mb.node("AveragePool", "pool", {"x"}, "y");
    CHECK(errorOf(mb.bytes()) ==
          "net.onnx: error: node 'pool' (AveragePool): kernel_shape is required");
  }
  {
    ModelBuilder mb({3, 64, 64}); // 12288 -> 16 x 64 x 64 = 65536: 805M dense entries
    mb.tensor("w", {16, 3, 3, 3}, randomValues(16 * 27, 24));
    intsAttr(mb.node("Conv", "big", {"x", "w"}, "y"), "pads", {1, 1, 1, 1});
    CHECK(errorOf(mb.bytes()) ==
          "net.onnx: error: node 'big' (Conv): lowered to a dense 12288 x 65536 affine layer, "
          "more than the 33554432 entries the importer allows");
  }
  {
    // Each Conv is under the per-layer cap (a 1x1 kernel over 64 x 64: a dense 4096 x 4096
    // layer, 16.8M entries from one stored value); the fifth takes the network past the file's
    // values plus the 64M the importer may generate, and is refused, not allocated further.
    ModelBuilder mb({1, 64, 64});
    mb.tensor("w", {1, 1, 1, 1}, {0.5f});
    for (int i = 0; i < 5; ++i)
      mb.node("Conv", "c" + std::to_string(i), {"x", "w"}, "y" + std::to_string(i));
    mb.node("Add", "s1", {"y0", "y1"}, "z1");
    mb.node("Add", "s2", {"z1", "y2"}, "z2");
    mb.node("Add", "s3", {"z2", "y3"}, "z3");
    mb.node("Add", "s4", {"z3", "y4"}, "y");
    CHECK(errorOf(mb.bytes()) ==
          "net.onnx: error: node 'c4' (Conv): the network would hold 83886080 weights and "
          "constants, more than the 1 the file stores plus the 67108864 the importer may "
          "generate");
  }
  {
    ModelBuilder mb({2, 2, 2});
    for (const char* t : {"scale", "shift", "mean", "var"})
      mb.tensor(t, {2}, {1, 1});
    intAttr(mb.node("BatchNormalization", "bn", {"x", "scale", "shift", "mean", "var"}, "y"),
            "training_mode", 1);
    CHECK(errorOf(mb.bytes()) == "net.onnx: error: node 'bn' (BatchNormalization): "
                                 "training_mode=1 is not supported (inference only)");
  }
  {
    // A residual Concat: the branch reads the Relu's output, not the common source x.
    ModelBuilder mb({4});
    mb.tensor("w", {4, 4}, randomValues(16, 25));
    mb.node("Relu", "relu", {"x"}, "r");
    mb.node("MatMul", "mm", {"r", "w"}, "a");
    intAttr(mb.node("Concat", "cat", {"x", "a"}, "y"), "axis", 1);
    CHECK(errorOf(mb.bytes()) ==
          "net.onnx: error: node 'cat' (Concat): Concat of branches is supported only when each "
          "input is one common activation or a single affine layer (Conv, Gemm, MatMul, "
          "AveragePool) over it that nothing else reads: input 'x' is not");
  }
  {
    ModelBuilder mb({4});
    mb.node("LSTM", "lstm", {"x"}, "y");
    CHECK(errorOf(mb.bytes()) ==
          "net.onnx: error: node 'lstm' (LSTM): unsupported operation 'LSTM'");
  }
}
