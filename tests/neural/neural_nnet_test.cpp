// NNet import: the two ACAS Xu NNet files compute the same functions as the ONNX files of the
// same networks (on normalised inputs), and the raw-input form applies the format's clamp and
// normalisation exactly as specified.
#include "neural/nnet.h"
#include "neural/onnx.h"

#include <catch2/catch.hpp>

using namespace chassis::neural;

namespace {
std::string data(const std::string& f) {
  return std::string(CHASSIS_SOURCE_DIR) + "/tests/data/acasxu/" + f;
}
} // namespace

TEST_CASE("ACAS Xu NNet files equal the ONNX files on normalised inputs", "[neural][nnet]") {
  for (auto [nnet, onnx] :
       {std::pair{"nnet/ACASXU_experimental_v2a_1_1.nnet", "ACASXU_run2a_1_1_batch_2000.onnx"},
        std::pair{"nnet/ACASXU_experimental_v2a_2_9.nnet", "ACASXU_run2a_2_9_batch_2000.onnx"}}) {
    INFO(nnet);
    auto a = loadNNet(data(nnet), NNetInputs::Normalised);
    auto b = loadOnnx(data(onnx));
    REQUIRE(a);
    REQUIRE(b);
    Eigen::MatrixXd X(50, 5);
    for (int i = 0; i < 50; ++i)
      for (int j = 0; j < 5; ++j)
        X(i, j) = 0.5 * std::sin(3.1 * i + 1.3 * j);
    Eigen::MatrixXd Ya = a->forward(X), Yb = b->forward(X);
    CHECK((Ya - Yb).cwiseAbs().maxCoeff() <= 1e-6);
    // and a different network does differ (the comparison can fail)
    auto other = loadOnnx(data("ACASXU_run2a_3_3_batch_2000.onnx"));
    REQUIRE(other);
    CHECK((Ya - other->forward(X)).cwiseAbs().maxCoeff() > 1e-3);
  }
}

TEST_CASE("NNet raw inputs are clamped and normalised as the format specifies", "[neural][nnet]") {
  auto f = readNNet(data("nnet/ACASXU_experimental_v2a_1_1.nnet"));
  REQUIRE(f);
  REQUIRE(f->layerSizes.size() == 8);
  CHECK(f->mins[3] == 100.0);
  CHECK(f->maxs[0] == 60760.0);
  CHECK(f->means[5] == Approx(7.5188840201005975));
  CHECK(f->ranges[5] == 373.94992);
  Network raw = f->toNetwork(NNetInputs::Raw, "raw");
  Network norm = f->toNetwork(NNetInputs::Normalised, "norm");
  // rho beyond its max (clamped), theta, psi, v_own below its min (clamped), v_int
  Eigen::VectorXd x(5);
  x << 70000.0, 0.5, -1.0, 50.0, 600.0;
  Eigen::VectorXd xn(5);
  const double clamped[5] = {60760.0, 0.5, -1.0, 100.0, 600.0};
  for (int i = 0; i < 5; ++i)
    xn[i] = (clamped[i] - f->means[i]) / f->ranges[i];
  Eigen::VectorXd expect =
      norm.forward(xn) * f->ranges[5] + Eigen::VectorXd::Constant(5, f->means[5]);
  Eigen::VectorXd got = raw.forward(x);
  CHECK((got - expect).cwiseAbs().maxCoeff() <= 1e-9 * std::max(1.0, expect.cwiseAbs().maxCoeff()));
  // Raw form is not an affine chain (the clamp); the normalised form is.
  auto ra = toAffineNet(raw);
  REQUIRE(!ra);
  CHECK(ra.error().message.find("'Max' is not affine") != std::string::npos);
  CHECK(toAffineNet(norm));
}
