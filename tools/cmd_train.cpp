// `chassis train --csv data.csv --label y --widths 32,32 --epochs 50 --lr 1e-3 --optimizer adam
//  --loss ce|mse --batch 32 --seed 1 [--l1 X] [--weight-decay X] [--test-fraction 0.2]
//  [--validation-fraction F --patience P] [-o net.onnx] [--json]`:
// trains an MLP (neural/train.h) on a CSV dataset, printing one progress line per epoch to stderr
// and the final test accuracy to stdout, and writes the network as ONNX. Same seed, same bytes.
#include "tools/command.h"

#include "neural/onnx.h"
#include "neural/train.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace {

using namespace chassis;
using namespace chassis::tools;

struct TrainCli {
  std::string csv, label, widths = "32,32", optimizer = "adam", loss = "ce", output;
  int epochs = 50, batch = 32, patience = 0;
  double lr = 1e-3, momentum = 0.9, l1 = 0, weightDecay = 0, testFraction = 0.2,
         validationFraction = 0;
  uint64_t seed = 1;
  bool json = false, quiet = false;
};

bool parseWidths(const std::string& s, std::vector<int>& out) {
  out.clear();
  if (s.empty()) return true; // no hidden layer: a linear model
  std::stringstream ss(s);
  std::string cell;
  while (std::getline(ss, cell, ',')) {
    try {
      size_t used = 0;
      int w = std::stoi(cell, &used);
      if (used != cell.size() || w < 1) return false;
      out.push_back(w);
    } catch (...) {
      return false;
    }
  }
  return true;
}

std::string pct(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100 * x);
  return buf;
}

int runTrain(const TrainCli& c) {
  neural::TrainOptions o;
  if (!parseWidths(c.widths, o.widths)) {
    std::cerr << "error: --widths expects positive integers separated by commas, got '" << c.widths
              << "'\n";
    return kUsage;
  }
  if (c.optimizer == "adam")
    o.optimizer = neural::Optimizer::Adam;
  else if (c.optimizer == "sgd")
    o.optimizer = neural::Optimizer::Sgd;
  else {
    std::cerr << "error: --optimizer must be adam or sgd, got '" << c.optimizer << "'\n";
    return kUsage;
  }
  if (c.loss == "ce")
    o.loss = neural::LossKind::CrossEntropy;
  else if (c.loss == "mse")
    o.loss = neural::LossKind::Mse;
  else {
    std::cerr << "error: --loss must be ce or mse, got '" << c.loss << "'\n";
    return kUsage;
  }
  o.epochs = c.epochs;
  o.lr = c.lr;
  o.momentum = c.momentum;
  o.batch = c.batch;
  o.seed = c.seed;
  o.l1 = c.l1;
  o.weightDecay = c.weightDecay;
  o.testFraction = c.testFraction;
  o.validationFraction = c.validationFraction;
  o.patience = c.patience;
  if (o.patience > 0 && o.validationFraction == 0) {
    std::cerr << "error: --patience needs a validation set (--validation-fraction)\n";
    return kUsage;
  }
  if (!c.quiet) o.progress = &std::cerr;

  auto data = neural::loadCsv(c.csv, c.label);
  if (!data) {
    std::cerr << data.error().str() << "\n";
    return kUsage;
  }
  auto r = neural::train(*data, o);
  if (!r) {
    Error e = r.error();
    if (e.loc.line > 0) e.loc.file = c.csv;
    std::cerr << e.str() << "\n";
    return kUsage;
  }
  neural::Network net = r->model.toNetwork("chassis_mlp");
  net.inputName = "input";
  net.outputName = o.loss == neural::LossKind::CrossEntropy ? "logits" : "output";
  if (!c.output.empty()) {
    if (auto s = neural::saveOnnx(net, c.output); !s) {
      std::cerr << s.error().str() << "\n";
      return kUsage;
    }
  }
  if (c.json) {
    nlohmann::json j;
    j["train_size"] = r->trainSize;
    j["validation_size"] = r->validationSize;
    j["test_size"] = r->testSize;
    j["best_epoch"] = r->bestEpoch;
    auto num = [](double x) { return std::isnan(x) ? nlohmann::json() : nlohmann::json(x); };
    j["test_loss"] = num(r->testLoss);
    j["test_accuracy"] = num(r->testAccuracy);
    j["epochs"] = nlohmann::json::array();
    for (const auto& s : r->history)
      j["epochs"].push_back({{"epoch", s.epoch},
                             {"loss", s.trainLoss},
                             {"accuracy", s.trainAccuracy},
                             {"val_loss", num(s.valLoss)},
                             {"val_accuracy", num(s.valAccuracy)}});
    if (!c.output.empty()) j["output"] = c.output;
    std::cout << j.dump(2) << "\n";
  } else {
    if (r->testSize > 0)
      std::cout << "test accuracy: " << pct(r->testAccuracy) << " (" << r->testSize
                << " samples), test loss: " << r->testLoss << "\n";
    else
      std::cout << "no test set (--test-fraction 0)\n";
    if (!c.output.empty()) std::cout << "wrote " << c.output << "\n";
  }
  return kOk;
}

chassis::tools::Registration reg{
    "train", "Train an MLP on a CSV dataset and write it as ONNX", [](CLI::App& app) {
      auto c = std::make_shared<TrainCli>();
      app.add_option("--csv", c->csv, "CSV file with a header row")->required();
      app.add_option("--label", c->label, "Name of the label column")->required();
      app.add_option("--widths", c->widths, "Hidden layer widths, e.g. 32,32 (empty: linear)");
      app.add_option("--epochs", c->epochs, "Number of epochs");
      app.add_option("--lr", c->lr, "Learning rate");
      app.add_option("--optimizer", c->optimizer, "adam or sgd");
      app.add_option("--momentum", c->momentum, "SGD momentum");
      app.add_option("--loss", c->loss, "ce (softmax cross-entropy, labels 0..K-1) or mse");
      app.add_option("--batch", c->batch, "Minibatch size");
      app.add_option("--seed", c->seed, "Random seed (init, split, batches)");
      app.add_option("--l1", c->l1, "L1 penalty on the weights");
      app.add_option("--weight-decay", c->weightDecay, "L2 weight decay");
      app.add_option("--test-fraction", c->testFraction, "Fraction held out for testing");
      app.add_option("--validation-fraction", c->validationFraction,
                     "Fraction of the training part used for early stopping");
      app.add_option("--patience", c->patience, "Early-stopping patience in epochs (0: off)");
      app.add_option("-o,--output", c->output, "Write the trained network here (.onnx)");
      app.add_flag("--json", c->json, "Print the summary as JSON");
      app.add_flag("-q,--quiet", c->quiet, "No per-epoch progress");
      return [c]() -> int { return runTrain(*c); };
    }};

} // namespace
