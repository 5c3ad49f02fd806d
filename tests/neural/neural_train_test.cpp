// Training: XOR and a linear boundary are learnt to >= 99% test accuracy with fixed seeds; a seed
// reproduces the weights byte for byte; the trained network exports to ONNX and its float32 and
// float64 forward passes agree. Also the CSV reader's errors, each with its line and column.
#include "neural/onnx.h"
#include "neural/train.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <sstream>

using namespace chassis;
using namespace chassis::neural;

namespace {

/// XOR with a margin: quadrant centres (+-0.5, +-0.5) plus uniform noise in [-0.4, 0.4].
Dataset xorData(int n, uint64_t seed) {
  Rng rng(seed, 7);
  Dataset d;
  d.featureNames = {"a", "b"};
  d.labelName = "y";
  d.X.resize(n, 2);
  d.y.resize(n);
  for (int i = 0; i < n; ++i) {
    const int qa = rng.uniform() < 0.5, qb = rng.uniform() < 0.5;
    d.X(i, 0) = (qa ? 0.5 : -0.5) + 0.8 * (rng.uniform() - 0.5);
    d.X(i, 1) = (qb ? 0.5 : -0.5) + 0.8 * (rng.uniform() - 0.5);
    d.y[i] = qa ^ qb;
  }
  return d;
}

/// y = [x0 + 2 x1 - 0.3 > 0] on [-1, 1]^2, points within 0.05 of the boundary left out.
Dataset linearData(int n, uint64_t seed) {
  Rng rng(seed, 8);
  Dataset d;
  d.featureNames = {"a", "b"};
  d.labelName = "y";
  d.X.resize(n, 2);
  d.y.resize(n);
  for (int i = 0; i < n;) {
    const double a = 2 * rng.uniform() - 1, b = 2 * rng.uniform() - 1;
    const double s = a + 2 * b - 0.3;
    if (std::abs(s) < 0.05) continue;
    d.X(i, 0) = a;
    d.X(i, 1) = b;
    d.y[i] = s > 0;
    ++i;
  }
  return d;
}

bool sameBytes(const Mlp& a, const Mlp& b) {
  if (a.W.size() != b.W.size()) return false;
  for (size_t l = 0; l < a.W.size(); ++l) {
    if (a.W[l].size() != b.W[l].size() || a.b[l].size() != b.b[l].size()) return false;
    if (std::memcmp(a.W[l].data(), b.W[l].data(), sizeof(double) * a.W[l].size()) != 0 ||
        std::memcmp(a.b[l].data(), b.b[l].data(), sizeof(double) * a.b[l].size()) != 0)
      return false;
  }
  return true;
}

} // namespace

TEST_CASE("an MLP learns XOR to >= 99% test accuracy", "[neural][train]") {
  TrainOptions o;
  o.widths = {16, 16};
  o.epochs = 60;
  o.lr = 1e-2;
  o.batch = 16;
  o.seed = 3;
  auto r = train(xorData(500, 11), o);
  REQUIRE(r);
  CHECK(r->testSize == 100);
  CHECK(r->trainSize == 400);
  CHECK(r->numClasses == 2);
  CHECK(r->testAccuracy >= 0.99);
  CHECK(r->history.size() == 60);
  CHECK(r->history.back().trainLoss < r->history.front().trainLoss);
  // The class of each quadrant centre
  Eigen::MatrixXd P(4, 2);
  P << 0.5, 0.5, -0.5, 0.5, 0.5, -0.5, -0.5, -0.5;
  Eigen::MatrixXd Z = r->model.forward(P);
  for (int i = 0; i < 4; ++i) {
    Eigen::Index arg;
    Z.row(i).maxCoeff(&arg);
    CHECK(arg == (i == 1 || i == 2 ? 1 : 0));
  }
}

TEST_CASE("SGD with momentum and MSE learn a linear boundary to >= 99%", "[neural][train]") {
  TrainOptions o;
  o.widths = {8};
  o.epochs = 80;
  o.lr = 0.05;
  o.optimizer = Optimizer::Sgd;
  o.loss = LossKind::Mse;
  o.batch = 32;
  o.seed = 5;
  auto r = train(linearData(600, 2), o);
  REQUIRE(r);
  CHECK(r->testAccuracy >= 0.99);
  // and cross-entropy with Adam, weight decay and L1
  o.optimizer = Optimizer::Adam;
  o.loss = LossKind::CrossEntropy;
  o.lr = 1e-2;
  o.weightDecay = 1e-4;
  o.l1 = 1e-5;
  auto r2 = train(linearData(600, 2), o);
  REQUIRE(r2);
  CHECK(r2->testAccuracy >= 0.99);
}

TEST_CASE("training is reproducible byte for byte from the seed", "[neural][train]") {
  TrainOptions o;
  o.widths = {8, 8};
  o.epochs = 5;
  o.lr = 1e-2;
  o.seed = 42;
  o.weightDecay = 1e-4;
  o.l1 = 1e-4;
  auto a = train(xorData(200, 1), o), b = train(xorData(200, 1), o);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(sameBytes(a->model, b->model));
  o.seed = 43;
  auto c = train(xorData(200, 1), o);
  REQUIRE(c);
  CHECK(!sameBytes(a->model, c->model));
}

TEST_CASE("early stopping keeps the best validation epoch", "[neural][train]") {
  TrainOptions o;
  o.widths = {16};
  o.epochs = 400;
  o.lr = 0.05;
  o.seed = 9;
  o.validationFraction = 0.25;
  o.patience = 3;
  auto r = train(linearData(200, 4), o);
  REQUIRE(r);
  CHECK(r->validationSize == 40); // 200 - 40 test = 160, a quarter of which is 40
  CHECK(r->history.size() < 400);
  // stopped exactly `patience` epochs after the best one
  CHECK(static_cast<int>(r->history.size()) == r->bestEpoch + 3);
  double bestVal = 1e300;
  for (auto& s : r->history)
    bestVal = std::min(bestVal, s.valLoss);
  CHECK(r->history[r->bestEpoch - 1].valLoss == bestVal);
}

TEST_CASE("a trained network exports to ONNX; float32 and float64 agree", "[neural][train]") {
  TrainOptions o;
  o.widths = {16, 16};
  o.epochs = 10;
  o.lr = 1e-2;
  o.seed = 3;
  auto r = train(xorData(300, 5), o);
  REQUIRE(r);
  Network net = r->model.toNetwork("xor");
  Eigen::MatrixXd X = xorData(64, 99).X;
  Eigen::MatrixXd Ym = r->model.forward(X), Yn = net.forward(X);
  CHECK((Ym - Yn).cwiseAbs().maxCoeff() <= 1e-12);
  Eigen::MatrixXf Yf = net.forward(Eigen::MatrixXf(X.cast<float>()));
  CHECK((Yn - Yf.cast<double>()).cwiseAbs().maxCoeff() <= 1e-5);
  const std::string tmp =
      (std::filesystem::temp_directory_path() / "chassis_neural_train.onnx").string();
  REQUIRE(saveOnnx(net, tmp));
  auto back = loadOnnx(tmp);
  REQUIRE(back);
  CHECK((back->forward(X).array() == Yn.array()).all());
  std::filesystem::remove(tmp);
}

TEST_CASE("training rejects unusable labels and options", "[neural][train]") {
  auto d = parseCsv("a,y\n1,0\n2,0.5\n", "d.csv", "y");
  REQUIRE(d);
  TrainOptions o;
  o.widths = {2};
  auto r = train(*d, o);
  REQUIRE(!r);
  CHECK(r.error().message == "cross-entropy needs class labels 0, 1, 2, ...; 'y' is 0.500000");
  CHECK(r.error().loc.line == 3);
  CHECK(r.error().loc.col == 3); // the label field
  o.batch = 0;
  auto r2 = train(*d, o);
  REQUIRE(!r2);
  CHECK(r2.error().message == "--batch must be >= 1");
}

TEST_CASE("CSV datasets and their errors", "[neural][dataset]") {
  auto d = parseCsv("x1, y ,x2\n1,0,2\n\n3,1,4\n", "d.csv", "y");
  REQUIRE(d);
  CHECK(d->featureNames == std::vector<std::string>{"x1", "x2"});
  CHECK(d->size() == 2);
  CHECK(d->X(1, 0) == 3);
  CHECK(d->X(1, 1) == 4);
  CHECK(d->y[1] == 1);
  CHECK(d->lines == std::vector<int>{2, 4});
  auto err = [](const std::string& text) {
    auto r = parseCsv(text, "d.csv", "y");
    REQUIRE(!r);
    return r.error().str();
  };
  CHECK(err("") == "d.csv:1:1: error: empty CSV file (no header)");
  CHECK(err("a,b\n1,2\n") == "d.csv:1:1: error: no column named 'y' in the header");
  CHECK(err("a,y\n1,2\n3\n") == "d.csv:3:2: error: expected 2 fields, got 1");
  CHECK(err("a,y\n1,2\nfoo,3\n") == "d.csv:3:1: error: bad number 'foo' in column 'a'");
  CHECK(err("a,y\n1,\n") == "d.csv:2:3: error: bad number '' in column 'y'");
  CHECK(err("a,y\n") == "d.csv:1:1: error: no data rows");
  CHECK(err("a,y\n1,2,3\n") == "d.csv:2:5: error: expected 2 fields, got 3");
  CHECK(err("a,y\n1, x2\n") == "d.csv:2:4: error: bad number 'x2' in column 'y'");
  CHECK(err("a,y,y\n1,2,3\n") == "d.csv:1:5: error: label column 'y' appears twice in the header");
  CHECK(err("y\n1\n") == "d.csv:1:1: error: no feature columns besides the label");
}
