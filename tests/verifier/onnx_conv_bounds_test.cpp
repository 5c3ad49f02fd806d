// The network engine's bounds on a convolutional ONNX network (Conv, BatchNormalization, Relu,
// MaxPool lowered to ReLUs, Flatten, Gemm) imported as dense affine layers: interval, symbolic
// and linear output bounds over an input box must contain the imported network's outputs at
// sampled points of the box (and at its corners, where the interval bounds are closest).
#ifndef ONNX_ML
#define ONNX_ML 1 // as libonnx's CMake package defines it (the test does not link onnx directly)
#endif
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#include <onnx/onnx_pb.h>

#include "neural/onnx.h"
#include "verifier/bounds.h"

#include <catch2/catch.hpp>

#include <random>

using namespace chassis;

namespace {

void addTensor(onnx::GraphProto* g, const std::string& name, std::vector<int64_t> dims,
               std::mt19937& rng) {
  auto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int64_t n = 1;
  for (int64_t d : dims) {
    t->add_dims(d);
    n *= d;
  }
  std::uniform_real_distribution<float> u(-1, 1);
  for (int64_t i = 0; i < n; ++i)
    t->add_float_data(u(rng));
}

onnx::NodeProto* addNode(onnx::GraphProto* g, const std::string& op, std::vector<std::string> ins,
                         const std::string& out) {
  auto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(op + "_" + out);
  for (auto& s : ins)
    n->add_input(s);
  n->add_output(out);
  return n;
}

void addInts(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t i : v)
    a->add_ints(i);
}

/// x[N, 2, 6, 6] -> Conv 3x3 pad 1 (4 ch) -> BatchNorm -> Relu -> MaxPool 2x2 s2 -> Conv 2x2
/// (3 ch) -> Relu -> Flatten -> Gemm (5 outputs).
std::string convNet(unsigned seed) {
  std::mt19937 rng(seed);
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.add_opset_import()->set_version(13);
  auto* g = m.mutable_graph();
  auto* in = g->add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_value(1);
  for (int64_t d : {2, 6, 6})
    tt->mutable_shape()->add_dim()->set_dim_value(d);
  addTensor(g, "w1", {4, 2, 3, 3}, rng);
  addTensor(g, "b1", {4}, rng);
  addTensor(g, "scale", {4}, rng);
  addTensor(g, "shift", {4}, rng);
  addTensor(g, "mean", {4}, rng);
  auto* var = g->add_initializer();
  var->set_name("var");
  var->set_data_type(onnx::TensorProto::FLOAT);
  var->add_dims(4);
  for (float v : {0.5f, 1.0f, 2.0f, 0.25f})
    var->add_float_data(v);
  addTensor(g, "w2", {3, 4, 2, 2}, rng);
  addTensor(g, "b2", {3}, rng);
  addTensor(g, "fc", {5, 12}, rng);
  addTensor(g, "fcb", {5}, rng);
  addInts(addNode(g, "Conv", {"x", "w1", "b1"}, "c1"), "pads", {1, 1, 1, 1});
  addNode(g, "BatchNormalization", {"c1", "scale", "shift", "mean", "var"}, "n1");
  addNode(g, "Relu", {"n1"}, "r1");
  auto* mp = addNode(g, "MaxPool", {"r1"}, "p1");
  addInts(mp, "kernel_shape", {2, 2});
  addInts(mp, "strides", {2, 2});
  addNode(g, "Conv", {"p1", "w2", "b2"}, "c2"); // [4,3,3] -> [3,2,2]
  addNode(g, "Relu", {"c2"}, "r2");
  addNode(g, "Flatten", {"r2"}, "f");
  auto* gemm = addNode(g, "Gemm", {"f", "fc", "fcb"}, "y");
  auto* tb = gemm->add_attribute();
  tb->set_name("transB");
  tb->set_type(onnx::AttributeProto::INT);
  tb->set_i(1);
  g->add_output()->set_name("y");
  std::string bytes;
  REQUIRE(m.SerializeToString(&bytes));
  return bytes;
}

} // namespace

TEST_CASE("the engine's bounds on an imported conv net contain its sampled outputs",
          "[verifier][onnx][conv]") {
  const unsigned seed = GENERATE(1u, 2u, 3u);
  auto net = neural::parseOnnx(convNet(seed), "conv.onnx");
  REQUIRE(net);
  auto affine = neural::toAffineNet(*net);
  REQUIRE(affine);
  REQUIRE(affine->inputSize == 72);
  REQUIRE(affine->outputSize() == 5);

  std::mt19937 rng(100 + seed);
  std::uniform_real_distribution<double> u(-1, 1);
  verifier::Box box{Eigen::VectorXd(72), Eigen::VectorXd(72)};
  for (int i = 0; i < 72; ++i) {
    const double c = u(rng);
    box.lo[i] = c - 0.05;
    box.hi[i] = c + 0.05;
  }
  const verifier::NetBounds ib = verifier::intervalBounds(*affine, box);
  const verifier::NetBounds sb = verifier::symbolicBounds(*affine, box);
  REQUIRE(!ib.infeasible);
  REQUIRE(!sb.infeasible);
  const Eigen::MatrixXd C = Eigen::MatrixXd::Identity(5, 5);
  const verifier::LinearLower low = verifier::outputLowerBound(*affine, box, sb, C);
  const verifier::LinearLower up = verifier::outputLowerBound(*affine, box, sb, -C);

  // Samples: random points and corners of the box.
  std::bernoulli_distribution coin(0.5);
  for (int s = 0; s < 200; ++s) {
    Eigen::VectorXd x(72);
    for (int i = 0; i < 72; ++i)
      x[i] = s % 2 ? box.lo[i] + (box.hi[i] - box.lo[i]) * (u(rng) + 1) / 2
                   : (coin(rng) ? box.lo[i] : box.hi[i]);
    const Eigen::VectorXd y = net->forward(x);
    for (int j = 0; j < 5; ++j) {
      CHECK(ib.lo.back()[j] <= y[j]);
      CHECK(y[j] <= ib.hi.back()[j]);
      CHECK(sb.lo.back()[j] <= y[j]);
      CHECK(y[j] <= sb.hi.back()[j]);
      CHECK(low.lower[j] <= y[j]);
      CHECK(y[j] <= -up.lower[j]);
    }
  }
  // The bounds are finite, and the symbolic ones at least as tight as the interval ones.
  CHECK(ib.lo.back().allFinite());
  CHECK(ib.hi.back().allFinite());
  CHECK(((sb.hi.back() - sb.lo.back()).array() <= (ib.hi.back() - ib.lo.back()).array() + 1e-9)
            .all());
}
