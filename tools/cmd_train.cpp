// `chassis train`: trains an MLP (neural/train.h) and writes it as ONNX. The dataset comes from a
// .chs task (tasks/task_dataset.h) or from CSV:
//
//   chassis train examples/braking.chs --inputs Controller --label Controller.brake
//       --widths 16,16 --epochs 30 --seed 1 -o braking_net.onnx
//   chassis train --csv data.csv --label y --widths 32,32 -o net.onnx   (or: chassis train
//   data.csv)
//
// Task datasets: --inputs M draws each sample's inputs uniformly from M's input box (declared
// ranges, or --box name=lo:hi), or, when M has no inputs, runs M and takes its outputs / named
// random choices (--features); --label R.out computes the label with module R on those inputs
// (--samples N of them, from --seed). A bool or enum label trains a classifier (softmax
// cross-entropy), a numeric one a regressor (MSE); --loss overrides.
// Training: Adam or SGD (with momentum), minibatches, weight decay, L1, a held-out test split,
// early stopping on a validation split (--patience; restores the best epoch), inputs standardised
// and folded back into the first layer (--no-standardize to turn off). Progress: on a terminal a
// live bar within each epoch; one plain line per epoch on stderr unless -q/--quiet. The summary
// (test accuracy / loss) goes to stdout, or JSON with --json. Same seed, same ONNX bytes.
// --save-data / --save-test write the whole dataset / the held-out test samples as CSV, so that
// `chassis eval net.onnx --csv test.csv --label L` reproduces the printed test figures.
// Output files (-o, --save-data, --save-test) are checked writable before training and written
// atomically after it (temp file + rename: never half a file). --time-limit S (or --timeout S) and
// --memory MB bound the run (tools/run_limits.h); a run stopped by them or by SIGINT/SIGTERM
// writes no file and exits 124 / 5 / 130 / 143.
// Metadata (tools/network_info.h): the ONNX file records the feature names, each feature's box
// (a task's input ranges or --box; otherwise the samples' extent, marked so), the class names, the
// label and the task file / input module or CSV file. --emit=chs prints the language's `network`
// declaration for the trained network on stdout (the summary then goes to stderr), to paste into
// a .chs file.
// Exit codes: 0 trained; 2 bad options, files, names or data; 1 a module failed while generating
// the dataset.
#include "tasks/task_dataset.h"
#include "tools/command.h"
#include "tools/json_report.h"
#include "tools/network_info.h"
#include "tools/output_file.h"
#include "tools/run_limits.h"

#include "neural/dataset.h"
#include "neural/onnx.h"
#include "neural/train.h"
#include "spec/diagnostics.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <utility>

namespace {

using namespace chassis;
using namespace chassis::tools;
using namespace chassis::tasks;

struct TrainCli {
  std::string file, csv, label, widths = "32,32", optimizer = "adam", loss = "auto", output,
                                saveData, saveTest, emit;
  TaskOptions task;
  std::string features;
  int epochs = 50, batch = 32, patience = 0;
  double lr = 1e-3, momentum = 0.9, l1 = 0, weightDecay = 0, testFraction = 0.2,
         validationFraction = -1;
  uint64_t seed = 1;
  bool json = false, quiet = false, noStandardize = false;
  run::Limits limits;
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
      if (used != cell.size() || w < 1 || w > 100000) return false;
      out.push_back(w);
    } catch (...) {
      return false;
    }
  }
  return !s.empty() && s.back() != ',';
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string cell;
  while (std::getline(ss, cell, ','))
    out.push_back(cell);
  return out;
}

std::string pct(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100 * x);
  return buf;
}

std::string g6(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

int usage(const std::string& msg) {
  std::cerr << "error: " << msg << "\n";
  return kUsage;
}

/// CSV labels: cross-entropy when there is one label column of non-negative integers.
bool looksLikeClasses(const neural::Dataset& d) {
  if (d.Y.cols() > 0) return false;
  for (int i = 0; i < d.size(); ++i)
    if (d.y[i] < 0 || d.y[i] != std::floor(d.y[i]) || d.y[i] > 1e6) return false;
  return true;
}

int runTrain(TrainCli& c) {
  neural::TrainOptions o;
  if (!parseWidths(c.widths, o.widths))
    return usage("--widths expects positive integers separated by commas, got '" + c.widths + "'");
  // Two consecutive hidden layers hold w1 * w2 weights (and Adam three more copies of them):
  // refuse sizes that cannot fit in memory instead of failing in the allocator.
  constexpr int64_t kMaxLayerWeights = int64_t(1) << 24;
  for (size_t i = 0; i + 1 < o.widths.size(); ++i)
    if (int64_t(o.widths[i]) * o.widths[i + 1] > kMaxLayerWeights)
      return usage("--widths: hidden layers of " + std::to_string(o.widths[i]) + " and " +
                   std::to_string(o.widths[i + 1]) + " units need " +
                   std::to_string(int64_t(o.widths[i]) * o.widths[i + 1]) +
                   " weights between them; the limit is " + std::to_string(kMaxLayerWeights));
  if (c.optimizer == "adam")
    o.optimizer = neural::Optimizer::Adam;
  else if (c.optimizer == "sgd")
    o.optimizer = neural::Optimizer::Sgd;
  else
    return usage("--optimizer must be adam or sgd, got '" + c.optimizer + "'");
  if (c.loss != "auto" && c.loss != "ce" && c.loss != "mse")
    return usage("--loss must be auto, ce or mse, got '" + c.loss + "'");
  // A positional .csv file is a CSV dataset, as if given with --csv.
  if (c.csv.empty() && c.file.size() > 4 && c.file.compare(c.file.size() - 4, 4, ".csv") == 0)
    std::swap(c.file, c.csv);
  if (c.file.empty() == c.csv.empty())
    return usage(c.file.empty() ? "give a .chs task file (with --inputs and --label) or --csv FILE"
                                : "give either a .chs task file or --csv, not both");
  if (!c.file.empty() && c.task.inputs.empty())
    return usage("a .chs task needs --inputs Module (the module the inputs are drawn from)");
  if (c.csv.empty() == false &&
      (!c.task.inputs.empty() || !c.task.box.empty() || !c.features.empty()))
    return usage("--inputs, --features and --box describe a .chs task; a CSV file has its "
                 "columns");
  o.epochs = c.epochs;
  o.lr = c.lr;
  o.momentum = c.momentum;
  o.batch = c.batch;
  o.seed = c.seed;
  o.l1 = c.l1;
  o.weightDecay = c.weightDecay;
  o.testFraction = c.testFraction;
  o.patience = c.patience;
  if (c.patience < 0) return usage("--patience must be >= 0");
  // Early stopping monitors a validation split (never the test set): 10% of the training part
  // unless given.
  o.validationFraction = c.validationFraction >= 0 ? c.validationFraction
                         : c.patience > 0          ? 0.1
                                                   : 0.0;
  if (o.patience > 0 && o.validationFraction == 0)
    return usage("--patience needs a validation set (--validation-fraction > 0)");
  o.standardize = !c.noStandardize;
  // --quiet: no progress on stderr at all (as compare's and infer's); errors are still printed.
  if (!c.quiet) o.progress = &std::cerr;
  if (!c.quiet && !c.json && isatty(STDERR_FILENO)) o.live = &std::cerr;

  if (!c.emit.empty() && c.emit != "chs")
    return usage("--emit supports only chs (the `network` declaration), got '" + c.emit + "'");
  if (!c.emit.empty() && c.output.empty())
    return usage("--emit=chs declares the network written by -o; give -o net.onnx");
  if (!c.emit.empty() && c.json)
    return usage("--emit=chs prints the declaration on stdout; it does not combine with --json");
  // Fail before a long run, not after it, when an output cannot be written.
  if (!checkWritable({c.output, c.saveData, c.saveTest})) return kUsage;

  // The dataset.
  neural::Dataset data;
  NetworkInfo info;
  std::string dataName;
  bool classes = true;
  if (!c.file.empty()) {
    c.task.label = c.label;
    c.task.seed = c.seed;
    c.task.features = c.features.empty() ? std::vector<std::string>{} : splitList(c.features);
    spec::DiagnosticEngine diags;
    TaskDataset td;
    if (auto st = loadTaskDataset(c.file, c.task, diags, td); st != LoadStatus::Ok)
      return st == LoadStatus::RunFailed ? kFailure : kUsage;
    data = std::move(td.data);
    info.ranges = td.featureBox;
    info.taskFile = c.file;
    info.taskInputs = c.task.inputs;
    classes = td.kind == LabelKind::Class;
    if (classes) o.numClasses = td.numClasses;
    dataName = c.file;
  } else {
    auto d = neural::loadCsv(c.csv, c.label);
    if (!d) {
      std::cerr << d.error().str() << "\n";
      return kUsage;
    }
    data = std::move(*d);
    info.csv = c.csv;
    classes = looksLikeClasses(data);
    dataName = c.csv;
  }
  o.loss = c.loss == "ce" || (c.loss == "auto" && classes) ? neural::LossKind::CrossEntropy
                                                           : neural::LossKind::Mse;
  // A trained network is the result: training without a place to write it is refused (with
  // --epochs 0 nothing is trained; that run only samples the dataset, e.g. for --save-data).
  if (c.output.empty() && c.epochs > 0)
    return usage("no -o/--output FILE: the trained network would be discarded; give -o "
                 "net.onnx (or --epochs 0 with --save-data to write only the dataset)");
  auto r = neural::train(data, o);
  if (run::stopRequested()) return kOk; // cut short: no file; run_limits.h says why
  if (!r) {
    Error e = r.error();
    if (e.loc.line > 0) e.loc.file = c.csv; // a CSV row
    std::cerr << e.str() << "\n";
    return kUsage;
  }
  const bool ce = o.loss == neural::LossKind::CrossEntropy;
  neural::Network net = r->model.toNetwork("chassis_mlp");
  net.inputName = "input";
  net.outputName = ce ? "logits" : "output";
  // What the network computes, recorded in the file: a feature without a box gets the extent of
  // its samples, marked as such.
  info.features = data.featureNames;
  info.ranges.resize(size_t(data.numFeatures()));
  for (int j = 0; j < data.numFeatures(); ++j) {
    auto& b = info.ranges[size_t(j)];
    info.rangeSource.push_back(b ? "box" : "samples");
    if (!b && data.size() > 0)
      b = std::make_pair(data.X.col(j).minCoeff(), data.X.col(j).maxCoeff());
  }
  info.label = c.label;
  if (ce) {
    info.classes = data.classNames;
    if (info.classes.size() != size_t(r->numClasses)) {
      info.classes.clear();
      for (int k = 0; k < r->numClasses; ++k)
        info.classes.push_back(std::to_string(k));
    }
  }
  if (!c.output.empty()) {
    auto bytes = neural::serializeOnnx(net, toOnnxMetadata(info));
    if (!bytes) {
      std::cerr << c.output << ": " << bytes.error().str() << "\n";
      return kUsage;
    }
    if (!writeFileAtomic(c.output, *bytes)) return kUsage;
  }
  if (!c.saveData.empty() && !writeFileAtomic(c.saveData, neural::toCsv(data))) return kUsage;
  if (!c.saveTest.empty() && !writeFileAtomic(c.saveTest, neural::toCsv(data.subset(r->testRows))))
    return kUsage;
  if (c.json) {
    nlohmann::ordered_json j;
    auto num = [](double x) {
      return std::isfinite(x) ? nlohmann::ordered_json(x) : nlohmann::ordered_json();
    };
    j["data"] = dataName;
    j["features"] = data.featureNames;
    j["label"] = data.Y.cols() > 0 ? nlohmann::ordered_json(data.labelNames)
                                   : nlohmann::ordered_json(data.labelName);
    j["loss_kind"] = ce ? "cross_entropy" : "mse";
    if (ce) j["classes"] = r->numClasses;
    j["train_size"] = r->trainSize;
    j["validation_size"] = r->validationSize;
    j["test_size"] = r->testSize;
    j["best_epoch"] = r->bestEpoch;
    j["test_loss"] = num(r->testLoss);
    j["test_accuracy"] = num(r->testAccuracy);
    j["epochs"] = nlohmann::ordered_json::array();
    for (const auto& s : r->history)
      j["epochs"].push_back({{"epoch", s.epoch},
                             {"loss", num(s.trainLoss)},
                             {"accuracy", num(s.trainAccuracy)},
                             {"val_loss", num(s.valLoss)},
                             {"val_accuracy", num(s.valAccuracy)}});
    if (!c.output.empty()) j["output"] = c.output;
    printReport("train", c.file.empty() ? c.csv : c.file, nlohmann::ordered_json::object(), j);
  } else {
    // With --emit=chs standard output is the declaration alone.
    std::ostream& out = c.emit.empty() ? std::cout : std::cerr;
    out << "dataset: " << data.size() << " samples, " << data.numFeatures() << " features (";
    for (int i = 0; i < data.numFeatures(); ++i)
      out << (i ? ", " : "") << data.featureNames[size_t(i)];
    out << "), " << (ce ? std::to_string(r->numClasses) + " classes" : "regression") << "; train "
        << r->trainSize << ", validation " << r->validationSize << ", test " << r->testSize << "\n";
    if (r->testSize > 0) {
      if (ce)
        out << "test accuracy: " << pct(r->testAccuracy) << " (" << r->testSize
            << " samples), loss: " << g6(r->testLoss) << "\n";
      else
        out << "test mse: " << g6(r->testLoss) << " (" << r->testSize
            << " samples), accuracy (|error| < 0.5): " << pct(r->testAccuracy) << "\n";
    } else {
      out << "no test set (--test-fraction 0)\n";
    }
    if (!c.output.empty()) out << "wrote " << c.output << "\n";
  }
  if (!c.emit.empty()) {
    std::string stem = std::filesystem::path(c.output).stem().string();
    if (!stem.empty()) stem[0] = char(std::toupper(static_cast<unsigned char>(stem[0])));
    std::cout << networkDeclaration(info, stem, c.output, data.numFeatures(), net.outputSize());
  }
  return kOk;
}

chassis::tools::Registration reg{
    "train", "Train an MLP on a .chs task or a CSV dataset and write it as ONNX",
    [](CLI::App& app) {
      auto c = std::make_shared<TrainCli>();
      app.add_option("file", c->file,
                     "A .chs task file: inputs from --inputs, labels from --label (a .csv file "
                     "here is read as --csv)");
      app.add_option("--csv", c->csv, "Train on a CSV file with a header row instead");
      app.add_option("--inputs", c->task.inputs,
                     "Task: the module whose input box (or, without inputs, whose run) gives "
                     "each sample's features");
      app.add_option("--label", c->label,
                     "Task: Module.output computing the label (or Module, or an output of the "
                     "--inputs module); CSV: the label column(s), comma-separated")
          ->required();
      app.add_option("--features", c->features,
                     "Task: comma-separated inputs, outputs or random-choice addresses of the "
                     "--inputs module (default: its inputs, or its outputs but the label)");
      app.add_option("--box", c->task.box,
                     "Task: sample input NAME from [LO, HI] instead of its declared range: "
                     "NAME=LO:HI (repeatable)");
      app.add_option("--samples", c->task.samples, "Task: number of samples to draw (2000)");
      app.add_option("--widths", c->widths, "Hidden layer widths, e.g. 32,32 (empty: linear)");
      app.add_option("--epochs", c->epochs, "Number of epochs (50)");
      app.add_option("--lr", c->lr, "Learning rate (0.001)");
      app.add_option("--optimizer", c->optimizer, "adam or sgd (adam)");
      app.add_option("--momentum", c->momentum, "SGD momentum (0.9)");
      app.add_option("--loss", c->loss,
                     "auto, ce (softmax cross-entropy, labels 0..K-1) or mse; auto: ce for a "
                     "bool/enum label or integer CSV labels, else mse");
      app.add_option("--batch", c->batch, "Minibatch size (32)");
      app.add_option("--seed", c->seed, "Random seed: samples, init, split, batches (1)");
      app.add_option("--l1", c->l1, "L1 penalty on the weights (0)");
      app.add_option("--weight-decay", c->weightDecay, "L2 weight decay (0)");
      app.add_option("--test-fraction", c->testFraction, "Fraction held out for testing (0.2)");
      app.add_option("--validation-fraction", c->validationFraction,
                     "Fraction of the training part used for early stopping (0, or 0.1 with "
                     "--patience)");
      app.add_option("--patience", c->patience,
                     "Early stopping: stop after this many epochs without a better validation "
                     "loss and keep the best epoch (0: off)");
      app.add_flag("--no-standardize", c->noStandardize,
                   "Train on raw inputs (default: standardised, folded into the first layer)");
      app.add_option("-o,--output", c->output, "Write the trained network here (.onnx)");
      app.add_option("--save-data", c->saveData, "Write the whole dataset here as CSV");
      app.add_option("--save-test", c->saveTest, "Write the held-out test samples here as CSV");
      app.add_flag("--json", c->json, "Print the summary as JSON");
      app.add_option("--emit", c->emit,
                     "chs: print the .chs `network` declaration of the trained network (inputs "
                     "named and ranged from the task) on stdout, the summary on stderr");
      app.add_flag("-q,--quiet", c->quiet,
                   "No progress on standard error (neither the live bar nor the line per "
                   "epoch); the summary and errors are still printed");
      addRunLimitOptions(app, c->limits, true);
      return [c]() -> int { return runLimited("train", c->limits, [c] { return runTrain(*c); }); };
    }};

} // namespace
