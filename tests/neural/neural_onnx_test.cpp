// ONNX import on the 45 ACAS Xu networks against independently computed reference outputs,
// toAffineNet against the graph forward pass, and export -> import round trips.
#include "neural/onnx.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace chassis::neural;

namespace {

std::string dataDir() {
  return std::string(CHASSIS_SOURCE_DIR) + "/tests/data/acasxu/";
}

std::string acasName(int a, int b) {
  return "ACASXU_run2a_" + std::to_string(a) + "_" + std::to_string(b) + "_batch_2000.onnx";
}

struct RefRow {
  std::string onnx;
  Eigen::VectorXd x, y;
};

std::vector<RefRow> readReference() {
  std::ifstream f(dataDir() + "reference_outputs.csv");
  std::string line;
  std::getline(f, line); // header: onnx,x0..x4,y0..y4
  std::vector<RefRow> rows;
  while (std::getline(f, line)) {
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string cell;
    RefRow r;
    std::getline(ss, r.onnx, ',');
    std::vector<double> v;
    while (std::getline(ss, cell, ','))
      v.push_back(std::stod(cell));
    REQUIRE(v.size() == 10);
    r.x = Eigen::Map<Eigen::VectorXd>(v.data(), 5);
    r.y = Eigen::Map<Eigen::VectorXd>(v.data() + 5, 5);
    rows.push_back(r);
  }
  return rows;
}

} // namespace

TEST_CASE("all 45 ACAS Xu networks load with the expected shapes", "[neural][onnx]") {
  for (int a = 1; a <= 5; ++a)
    for (int b = 1; b <= 9; ++b) {
      auto net = loadOnnx(dataDir() + acasName(a, b));
      INFO(acasName(a, b));
      REQUIRE(net);
      CHECK(net->inputSize() == 5);
      CHECK(net->outputSize() == 5);
      CHECK(net->batched);
      // Sub, Flatten, 6 x (MatMul, Add, Relu), MatMul, Add
      CHECK(net->layers.size() == 2 + 6 * 3 + 2);
      auto affine = toAffineNet(*net);
      REQUIRE(affine);
      CHECK(affine->layers.size() == 7);
    }
}

TEST_CASE("ACAS Xu outputs match the float64 reference to 1e-9", "[neural][onnx]") {
  auto rows = readReference();
  REQUIRE(rows.size() == 20);
  for (const RefRow& r : rows) {
    auto net = loadOnnx(dataDir() + r.onnx);
    REQUIRE(net);
    Eigen::VectorXd y = net->forward(r.x);
    INFO(r.onnx);
    for (int i = 0; i < 5; ++i)
      CHECK(std::abs(y[i] - r.y[i]) <= 1e-9);
    // The same through AffineNet folding.
    auto affine = toAffineNet(*net);
    REQUIRE(affine);
    Eigen::VectorXd ya = affine->forward(r.x);
    for (int i = 0; i < 5; ++i)
      CHECK(std::abs(ya[i] - y[i]) <= 1e-12);
  }
}

TEST_CASE("toAffineNet agrees with the graph on random inputs of every ACAS Xu network",
          "[neural][onnx][affine]") {
  for (int a = 1; a <= 5; ++a)
    for (int b = 1; b <= 9; ++b) {
      auto net = loadOnnx(dataDir() + acasName(a, b));
      REQUIRE(net);
      auto affine = toAffineNet(*net);
      REQUIRE(affine);
      // A fixed deterministic grid of inputs in the normalised box [-0.5, 0.5]^5.
      Eigen::MatrixXd X(32, 5);
      for (int i = 0; i < 32; ++i)
        for (int j = 0; j < 5; ++j)
          X(i, j) = std::sin(1.7 * i + 0.9 * j + a + 0.1 * b) * 0.5;
      Eigen::MatrixXd Y = net->forward(X);
      Eigen::MatrixXd Ya = affine->forwardBatch(X.transpose()).transpose();
      CHECK((Y - Ya).cwiseAbs().maxCoeff() <= 1e-12);
      // Float32 forward agrees to 1e-5 relative to the outputs' scale (float32 has 24 bits).
      Eigen::MatrixXf Yf = net->forward(Eigen::MatrixXf(X.cast<float>()));
      const double scale = std::max(1.0, Y.cwiseAbs().maxCoeff());
      CHECK((Y - Yf.cast<double>()).cwiseAbs().maxCoeff() <= 1e-5 * scale);
    }
}

TEST_CASE("ONNX export then import gives bit-identical outputs", "[neural][onnx][export]") {
  const std::string tmp =
      (std::filesystem::temp_directory_path() / "chassis_neural_roundtrip.onnx").string();
  auto rows = readReference();
  for (int k : {0, 7, 19}) {
    auto net = loadOnnx(dataDir() + rows[k].onnx);
    REQUIRE(net);
    REQUIRE(saveOnnx(*net, tmp));
    auto back = loadOnnx(tmp);
    REQUIRE(back);
    CHECK(back->layers.size() == net->layers.size());
    Eigen::MatrixXd X(3, 5);
    X.row(0) = rows[k].x.transpose();
    X.row(1) = -rows[k].x.transpose();
    X.row(2) = 0.3 * rows[k].x.transpose();
    Eigen::MatrixXd Y1 = net->forward(X), Y2 = back->forward(X);
    CHECK((Y1.array() == Y2.array()).all());
  }
  // A network whose weights are not float32-exact is written in float64 and still round-trips
  // bit for bit.
  Eigen::MatrixXd W1(3, 2), W2(1, 3);
  W1 << 0.1, -0.2, 0.3, 0.4, -0.5, 0.6;
  W2 << 1.0 / 3, -2.0 / 7, 0.7;
  Eigen::VectorXd b1(3), b2(1);
  b1 << 0.01, -0.02, 0.03;
  b2 << 0.1;
  Network mlp = makeMlp({W1, W2}, {b1, b2});
  REQUIRE(saveOnnx(mlp, tmp));
  auto back = loadOnnx(tmp);
  REQUIRE(back);
  Eigen::MatrixXd X(4, 2);
  X << 1, 2, -1, 0.5, 0.25, -3, 0, 0;
  Eigen::MatrixXd Y1 = mlp.forward(X), Y2 = back->forward(X);
  CHECK((Y1.array() == Y2.array()).all());
  // and the values are what the MLP computes by hand
  Eigen::VectorXd h = (W1 * Eigen::Vector2d(1, 2) + b1).cwiseMax(0.0);
  CHECK(Y1(0, 0) == Approx((W2 * h + b2)(0)).epsilon(1e-15));
  std::remove(tmp.c_str());
}

TEST_CASE("ONNX metadata_props are written in order and read back", "[neural][onnx][metadata]") {
  Eigen::MatrixXd W(1, 2);
  W << 1.5, -2;
  Eigen::VectorXd b(1);
  b << 0.25;
  Network net = makeMlp({W}, {b}, "meta");
  const OnnxMetadata meta = {{"chassis.features", "[\"x\",\"y\"]"}, {"a", ""}, {"z", "ü"}};
  auto bytes = serializeOnnx(net, meta);
  REQUIRE(bytes);
  auto back = parseOnnxMetadata(*bytes, "meta.onnx");
  REQUIRE(back);
  CHECK(*back == meta);
  // The network itself is unchanged by its metadata.
  auto plain = serializeOnnx(net);
  REQUIRE(plain);
  auto n1 = parseOnnx(*bytes, "meta.onnx");
  REQUIRE(n1);
  Eigen::VectorXd x(2);
  x << 0.5, 3;
  CHECK(n1->forward(x)(0) == net.forward(x)(0));
  auto none = parseOnnxMetadata(*plain, "plain.onnx");
  REQUIRE(none);
  CHECK(none->empty());
  // A key twice is refused; garbage is a located error.
  CHECK_FALSE(serializeOnnx(net, {{"k", "1"}, {"k", "2"}}));
  auto bad = parseOnnxMetadata("not a model", "bad.onnx");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().str().find("bad.onnx") != std::string::npos);
}
