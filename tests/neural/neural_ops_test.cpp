// Every supported ONNX operation and attribute, checked against the same maths written directly
// in Eigen: broadcasting of normalisation constants, Constant nodes, double and raw_data
// tensors, MatMul over the last axis of a rank-3 activation, Flatten, Reshape with 0 and -1,
// Identity, Gemm with transB/alpha/beta, constant-first Sub, Max/Min, unbatched inputs.
// Each model is also folded by toAffineNet (when it is a chain) and round-tripped through export.
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#include <onnx/onnx_pb.h>

#include "neural/onnx.h"

#include <catch2/catch.hpp>

#include <cstring>

using namespace chassis::neural;

namespace {

onnx::TensorProto* tensor(onnx::GraphProto* g, const std::string& name, std::vector<int64_t> dims,
                          const std::vector<double>& v, int type = onnx::TensorProto::FLOAT,
                          bool raw = false) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (auto d : dims)
    t->add_dims(d);
  if (type == onnx::TensorProto::FLOAT) {
    if (raw) {
      std::string bytes(4 * v.size(), '\0');
      for (size_t i = 0; i < v.size(); ++i) {
        float f = static_cast<float>(v[i]);
        std::memcpy(&bytes[4 * i], &f, 4);
      }
      t->set_raw_data(bytes);
    } else {
      for (double x : v)
        t->add_float_data(static_cast<float>(x));
    }
  } else if (type == onnx::TensorProto::DOUBLE) {
    if (raw) {
      std::string bytes(8 * v.size(), '\0');
      std::memcpy(&bytes[0], v.data(), 8 * v.size());
      t->set_raw_data(bytes);
    } else {
      for (double x : v)
        t->add_double_data(x);
    }
  } else {
    std::string bytes(8 * v.size(), '\0');
    for (size_t i = 0; i < v.size(); ++i) {
      int64_t k = static_cast<int64_t>(v[i]);
      std::memcpy(&bytes[8 * i], &k, 8);
    }
    t->set_raw_data(bytes);
  }
  return t;
}

onnx::NodeProto* node(onnx::GraphProto* g, const std::string& op, std::vector<std::string> ins,
                      const std::string& out) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(out + "_node");
  for (auto& s : ins)
    n->add_input(s);
  n->add_output(out);
  return n;
}

void intAttr(onnx::NodeProto* n, const std::string& name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
void floatAttr(onnx::NodeProto* n, const std::string& name, float v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

void input(onnx::GraphProto* g, std::vector<int64_t> dims, bool batched) {
  auto* v = g->add_input();
  v->set_name("x");
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  if (batched) tt->mutable_shape()->add_dim()->set_dim_param("batch");
  for (auto d : dims)
    tt->mutable_shape()->add_dim()->set_dim_value(d);
}

Network parse(const onnx::ModelProto& m) {
  std::string bytes;
  REQUIRE(m.SerializeToString(&bytes));
  auto net = parseOnnx(bytes, "ops.onnx");
  if (!net) FAIL(net.error().str());
  return std::move(*net);
}

Eigen::RowVectorXd relu(const Eigen::RowVectorXd& v) {
  return v.cwiseMax(0.0);
}

} // namespace

TEST_CASE("every supported operation computes its ONNX semantics", "[neural][onnx][ops]") {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  input(g, {2, 3}, true);
  // Constant node: per-feature mean [3] broadcast over [N,2,3]
  {
    auto* n = node(g, "Constant", {}, "mean");
    auto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    auto* t = a->mutable_t();
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->add_dims(3);
    for (float f : {0.5f, -1.0f, 2.0f})
      t->add_float_data(f);
  }
  node(g, "Sub", {"x", "mean"}, "s1");
  tensor(g, "sd", {1, 2, 1}, {2.0, 4.0}, onnx::TensorProto::DOUBLE, true); // per-row divisor
  node(g, "Div", {"s1", "sd"}, "s2");
  tensor(g, "W1", {3, 4}, {1, 0, -1, 2, 0.5, 1, 0, -2, 1, 1, 1, 1}, onnx::TensorProto::FLOAT, true);
  node(g, "MatMul", {"s2", "W1"}, "s3");                // [N,2,4]
  intAttr(node(g, "Flatten", {"s3"}, "s4"), "axis", 1); // [N,8]
  tensor(g, "shape", {3}, {0, -1, 4}, onnx::TensorProto::INT64);
  node(g, "Reshape", {"s4", "shape"}, "s5"); // [N,2,4]
  tensor(g, "shape2", {2}, {-1, 8}, onnx::TensorProto::INT64);
  node(g, "Reshape", {"s5", "shape2"}, "s6"); // [N,8]
  node(g, "Identity", {"s6"}, "s7");
  std::vector<double> B(5 * 8);
  for (int i = 0; i < 40; ++i)
    B[i] = ((i * 7) % 11 - 5) * 0.25;
  tensor(g, "B", {5, 8}, B);
  tensor(g, "C", {1, 5}, {0.1, -0.2, 0.3, -0.4, 0.5});
  auto* gemm = node(g, "Gemm", {"s7", "B", "C"}, "s8");
  intAttr(gemm, "transB", 1);
  floatAttr(gemm, "alpha", 0.5f);
  floatAttr(gemm, "beta", 2.0f);
  node(g, "Relu", {"s8"}, "s9");
  tensor(g, "k", {5}, {1, 2, 3, 4, 5});
  node(g, "Sub", {"k", "s9"}, "s10"); // k - x
  tensor(g, "sc", {}, {3.0});
  node(g, "Mul", {"sc", "s10"}, "s11"); // constant first, commutative
  tensor(g, "W2", {5, 2}, {1, -1, 0.5, 0.25, -2, 1, 0, 3, 1, 1});
  node(g, "MatMul", {"s11", "W2"}, "s12");
  tensor(g, "b2", {2}, {0.75, -0.75});
  node(g, "Add", {"s12", "b2"}, "y");
  g->add_output()->set_name("y");
  Network net = parse(m);
  CHECK(net.inputSize() == 6);
  CHECK(net.outputSize() == 2);
  CHECK(net.outputShape() == Shape{2});

  // The same maths by hand.
  Eigen::Matrix<double, 3, 4, Eigen::RowMajor> W1;
  W1 << 1, 0, -1, 2, 0.5, 1, 0, -2, 1, 1, 1, 1;
  Eigen::Matrix<double, 5, 8, Eigen::RowMajor> Bm =
      Eigen::Map<Eigen::Matrix<double, 5, 8, Eigen::RowMajor>>(B.data());
  Eigen::RowVectorXd C(5), k(5), b2(2);
  // C is stored as float32 in the file: compare with its rounded values
  C << double(0.1f), double(-0.2f), double(0.3f), double(-0.4f), double(0.5f);
  k << 1, 2, 3, 4, 5;
  b2 << 0.75, -0.75;
  Eigen::Matrix<double, 5, 2, Eigen::RowMajor> W2;
  W2 << 1, -1, 0.5, 0.25, -2, 1, 0, 3, 1, 1;
  auto byHand = [&](const Eigen::RowVectorXd& x) {
    Eigen::RowVectorXd flat(8);
    const double mean[3] = {0.5, -1.0, 2.0}, sd[2] = {2.0, 4.0};
    for (int r = 0; r < 2; ++r) {
      Eigen::RowVector3d row;
      for (int c = 0; c < 3; ++c)
        row[c] = (x[3 * r + c] - mean[c]) / sd[r];
      flat.segment(4 * r, 4) = row * W1;
    }
    Eigen::RowVectorXd h = relu(0.5 * (flat * Bm.transpose()) + 2.0 * C);
    Eigen::RowVectorXd s = 3.0 * (k - h);
    return Eigen::RowVectorXd(s * W2 + b2);
  };
  Eigen::MatrixXd X(4, 6);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 6; ++j)
      X(i, j) = std::cos(1.3 * i + 0.7 * j) * 3;
  Eigen::MatrixXd Y = net.forward(X);
  for (int i = 0; i < 4; ++i) {
    Eigen::RowVectorXd want = byHand(X.row(i));
    CHECK((Y.row(i) - want).cwiseAbs().maxCoeff() <= 1e-12);
  }
  // at least one ReLU is inactive somewhere, so the test exercises it
  bool clipped = false;
  {
    auto affine = toAffineNet(net);
    REQUIRE(affine);
    CHECK(affine->layers.size() == 2);
    CHECK(affine->layers[0].relu);
    Eigen::MatrixXd Ya = affine->forwardBatch(X.transpose()).transpose();
    CHECK((Ya - Y).cwiseAbs().maxCoeff() <= 1e-12);
    Eigen::MatrixXd pre = (affine->layers[0].W * X.transpose()).colwise() + affine->layers[0].b;
    clipped = (pre.array() < 0).any();
  }
  CHECK(clipped);
  // Export and import: bit-identical outputs.
  auto bytes = serializeOnnx(net);
  REQUIRE(bytes);
  auto back = parseOnnx(*bytes, "back.onnx");
  REQUIRE(back);
  CHECK((back->forward(X).array() == Y.array()).all());
  // float32
  Eigen::MatrixXf Yf = net.forward(Eigen::MatrixXf(X.cast<float>()));
  CHECK((Yf.cast<double>() - Y).cwiseAbs().maxCoeff() <= 1e-4);
}

TEST_CASE("unbatched inputs, Max/Min, Div by an activation and a branch", "[neural][onnx][ops]") {
  onnx::ModelProto m;
  auto* g = m.mutable_graph();
  input(g, {3}, false);
  tensor(g, "lo", {3}, {-1, -1, -1});
  tensor(g, "hi", {3}, {1, 1, 1});
  node(g, "Max", {"x", "lo"}, "a");
  node(g, "Min", {"hi", "a"}, "b");
  tensor(g, "W", {3, 2}, {1, 2, 3, 4, 5, 6});
  node(g, "MatMul", {"b", "W"}, "c");
  node(g, "Relu", {"c"}, "d");
  node(g, "Add", {"c", "d"}, "e"); // branch: c + relu(c)
  tensor(g, "two", {1}, {2});
  node(g, "Div", {"two", "e"}, "y"); // 2 / e
  g->add_output()->set_name("y");
  Network net = parse(m);
  CHECK(!net.batched);
  CHECK(net.inputShape == Shape{3});
  Eigen::VectorXd x(3);
  x << 0.5, 7, -3; // clamped to 0.5, 1, -1
  Eigen::VectorXd y = net.forward(x);
  // c = [0.5 + 3 - 5, 1 + 4 - 6] = [-1.5, -1]; e = c + relu(c) = c; y = 2 / c
  CHECK(y[0] == Approx(2 / -1.5));
  CHECK(y[1] == Approx(-2.0));
  auto affine = toAffineNet(net);
  REQUIRE(!affine);
  CHECK(affine.error().message == "node 'a_node' (Max): not a feed-forward affine/ReLU chain: "
                                  "'Max' is not affine");
  auto bytes = serializeOnnx(net);
  REQUIRE(bytes);
  auto back = parseOnnx(*bytes, "back.onnx");
  REQUIRE(back);
  CHECK(!back->batched);
  CHECK(back->forward(x) == y);
}
