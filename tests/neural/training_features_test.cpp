// Training features added for datasets from .chs tasks: standardised inputs folded back into the
// first layer (a braking-like boundary on raw ranges [0, 200] x [0, 40] to >= 99%; scaling a
// feature does not change the learnt function), vector regression targets (MSE onto Y), a fixed
// number of classes, the test rows reported so that re-scoring them reproduces the test figures,
// CSV writing that reads back the same doubles, the per-epoch line and the live progress line.
#include "neural/train.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

using namespace chassis;
using namespace chassis::neural;

namespace {

/// brake = reading <= speed^2 / 12 + 5 on reading in [0, 200], speed in [0, 40] (examples/
/// braking.chs's Controller), sampled uniformly.
Dataset brakingData(int n, uint64_t seed) {
  Rng rng(seed, 21);
  Dataset d;
  d.featureNames = {"reading", "speed"};
  d.labelName = "brake";
  d.X.resize(n, 2);
  d.y.resize(n);
  for (int i = 0; i < n; ++i) {
    const double reading = 200 * rng.uniform(), speed = 40 * rng.uniform();
    d.X(i, 0) = reading;
    d.X(i, 1) = speed;
    d.y[i] = reading <= speed * speed / 12.0 + 5.0;
  }
  return d;
}

} // namespace

TEST_CASE("standardised training learns the braking boundary on raw ranges", "[neural][train]") {
  TrainOptions o;
  o.widths = {16, 16};
  o.epochs = 40;
  o.lr = 1e-2;
  o.seed = 1;
  o.standardize = true;
  const Dataset d = brakingData(3000, 5);
  auto r = train(d, o);
  REQUIRE(r);
  CHECK(r->testSize == 600);
  CHECK(r->testAccuracy >= 0.99);
  // The returned network takes raw inputs: scoring it on the raw test rows gives the figures.
  REQUIRE(r->testRows.size() == 600);
  const Dataset test = d.subset(r->testRows);
  auto [loss, acc] = evaluate(r->model, test, LossKind::CrossEntropy);
  CHECK(acc == r->testAccuracy);
  CHECK(loss == r->testLoss);
  // and through the Network type the exporter writes
  auto [loss2, acc2] = score(r->model.toNetwork().forward(test.X), test, LossKind::CrossEntropy);
  CHECK(acc2 == r->testAccuracy);
  CHECK(std::abs(loss2 - r->testLoss) <= 1e-12);
  // Points far from the boundary: close and fast brakes, far and slow does not.
  Eigen::MatrixXd P(2, 2);
  P << 2, 30, 190, 3;
  Eigen::MatrixXd Z = r->model.forward(P);
  CHECK(Z(0, 1) > Z(0, 0));
  CHECK(Z(1, 0) > Z(1, 1));
}

TEST_CASE("standardisation makes training invariant to a feature's scale", "[neural][train]") {
  TrainOptions o;
  o.widths = {8};
  o.epochs = 3;
  o.lr = 1e-2;
  o.seed = 4;
  o.standardize = true;
  Dataset a = brakingData(400, 2), b = a;
  b.X.col(0) *= 1000.0; // reading in millimetres... of a sort
  auto ra = train(a, o), rb = train(b, o);
  REQUIRE(ra);
  REQUIRE(rb);
  Eigen::MatrixXd Za = ra->model.forward(a.X), Zb = rb->model.forward(b.X);
  CHECK((Za - Zb).cwiseAbs().maxCoeff() <= 1e-6 * (1 + Za.cwiseAbs().maxCoeff()));
  // Without standardisation the raw scale matters (and the two runs differ).
  o.standardize = false;
  auto rc = train(a, o), rd = train(b, o);
  REQUIRE(rc);
  REQUIRE(rd);
  CHECK((rc->model.forward(a.X) - rd->model.forward(b.X)).cwiseAbs().maxCoeff() > 1e-3);
}

TEST_CASE("MSE onto a vector target", "[neural][train]") {
  const int n = 500;
  Rng rng(3, 5);
  Dataset d;
  d.featureNames = {"a", "b"};
  d.labelNames = {"s", "t"};
  d.X.resize(n, 2);
  d.Y.resize(n, 2);
  for (int i = 0; i < n; ++i) {
    d.X(i, 0) = 2 * rng.uniform() - 1;
    d.X(i, 1) = 2 * rng.uniform() - 1;
    d.Y(i, 0) = d.X(i, 0) + d.X(i, 1);
    d.Y(i, 1) = 0.5 * d.X(i, 0) - d.X(i, 1) + 0.25;
  }
  d.y = d.Y.col(0);
  TrainOptions o;
  o.widths = {}; // linear: exactly representable
  o.loss = LossKind::Mse;
  o.epochs = 60;
  o.lr = 2e-2;
  o.seed = 2;
  auto r = train(d, o);
  REQUIRE(r);
  REQUIRE(r->model.W.size() == 1);
  CHECK(r->model.W[0].rows() == 2);
  CHECK(r->testLoss < 1e-4);
  CHECK(r->testAccuracy == 1.0);
  CHECK(std::abs(r->model.W[0](1, 1) + 1.0) < 0.01);
  CHECK(std::abs(r->model.b[0](1) - 0.25) < 0.01);
  // Cross-entropy cannot take a vector target.
  o.loss = LossKind::CrossEntropy;
  auto bad = train(d, o);
  REQUIRE(!bad);
  CHECK(bad.error().message ==
        "cross-entropy needs one class label per sample, not a vector target (use MSE)");
}

TEST_CASE("a fixed number of classes", "[neural][train]") {
  auto d = parseCsv("x,y\n0,0\n1,1\n2,1\n3,0\n", "c.csv", "y");
  REQUIRE(d);
  TrainOptions o;
  o.widths = {4};
  o.epochs = 1;
  o.numClasses = 3; // an enum with a constant never drawn still gets its output
  auto r = train(*d, o);
  REQUIRE(r);
  CHECK(r->numClasses == 3);
  CHECK(r->model.W.back().rows() == 3);
  o.numClasses = 0;
  auto r2 = train(*d, o);
  REQUIRE(r2);
  CHECK(r2->model.W.back().rows() == 2);
  auto d3 = parseCsv("x,y\n0,0\n1,2\n", "c.csv", "y");
  REQUIRE(d3);
  o.numClasses = 2;
  auto r3 = train(*d3, o);
  REQUIRE(!r3);
  CHECK(r3.error().message == "class label 2 of 'y' is not below the number of classes 2");
  CHECK(r3.error().loc.line == 3);
  CHECK(r3.error().loc.col == 3);
}

TEST_CASE("CSV writing reads back the same doubles, vector labels too", "[neural][dataset]") {
  auto d = parseCsv("a,s,b,t\n0.1,1e-300,3,-2.5\n0.30000000000000004,7,8,9\n", "v.csv", "s,t");
  REQUIRE(d);
  CHECK(d->featureNames == std::vector<std::string>{"a", "b"});
  CHECK(d->labelNames == std::vector<std::string>{"s", "t"});
  REQUIRE(d->Y.cols() == 2);
  CHECK(d->Y(0, 0) == 1e-300);
  CHECK(d->Y(1, 1) == 9);
  CHECK(d->X(1, 0) == 0.30000000000000004);
  const std::string text = toCsv(*d);
  CHECK(text.substr(0, text.find('\n')) == "a,b,s,t");
  auto back = parseCsv(text, "w.csv", "s,t");
  REQUIRE(back);
  CHECK((back->X.array() == d->X.array()).all());
  CHECK((back->Y.array() == d->Y.array()).all());
  CHECK(toCsv(*back) == text);
  // one label column
  auto one = parseCsv("x,y\n0.1,1\n", "o.csv", "y");
  REQUIRE(one);
  CHECK(toCsv(*one) == "x,y\n0.10000000000000001,1\n");
  // label option naming a missing column, or one twice
  auto miss = parseCsv("a,s\n1,2\n", "m.csv", "s,t");
  REQUIRE(!miss);
  CHECK(miss.error().str() == "m.csv:1:1: error: no column named 't' in the header");
  auto twice = parseCsv("a,s\n1,2\n", "m.csv", "s,s");
  REQUIRE(!twice);
  CHECK(twice.error().message == "label column 's' is named twice in the label option");
}

TEST_CASE("progress: a plain line per epoch, and a live line for terminals", "[neural][train]") {
  EpochStats s{3, 0.5, 0.975, std::nan(""), std::nan("")};
  CHECK(formatEpoch(s, 30) == "epoch 3/30  loss 0.500000  accuracy 97.50%");
  s.valLoss = 0.25;
  s.valAccuracy = 1;
  CHECK(formatEpoch(s, 30) ==
        "epoch 3/30  loss 0.500000  accuracy 97.50%  val_loss 0.250000  val_accuracy 100.00%");
  TrainOptions o;
  o.widths = {4};
  o.epochs = 2;
  o.batch = 8;
  o.testFraction = 0;
  std::ostringstream plain, live;
  o.progress = &plain;
  o.live = &live;
  auto r = train(brakingData(400, 1), o); // 50 batches per epoch
  REQUIRE(r);
  const std::string p = plain.str(), l = live.str();
  CHECK(p.find("epoch 1/2  loss ") == 0);
  CHECK(p.find("\nepoch 2/2  loss ") != std::string::npos);
  CHECK(std::count(p.begin(), p.end(), '\n') == 2);
  CHECK(l.find("\repoch 1/2 [") != std::string::npos);
  CHECK(l.find("\repoch 2/2 [") != std::string::npos);
  CHECK(l.find('\n') == std::string::npos); // the live line never scrolls
}
