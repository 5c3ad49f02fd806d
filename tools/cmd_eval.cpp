// `chassis eval NET (.onnx | .nnet) --input 0.1,0.2,... [--input ...] [--json] [--float32]
//  [--normalised] [--describe] [--backend interp|jit]`: runs a network's forward pass on the given inputs and prints the
// outputs, one line per input (%.17g, so the doubles are exact). An NNet file is evaluated on raw
// inputs (with its clamp and normalisation) unless --normalised.
//
// On a dataset instead of --input: `--csv data.csv --label y`, or a .chs task
// `--task FILE.chs --inputs M --label R.out [--features ..] [--box ..] [--samples N] [--seed S]`
// (the same dataset `chassis train` draws for those options; tasks/task_dataset.h). Prints the
// accuracy and loss (classification: argmax against the class, softmax cross-entropy; regression:
// MSE, and the fraction within 0.5), with the same formatting as `chassis train`'s test figures,
// so evaluating a trained net on its --save-test file prints the figures training printed.
// --confusion adds the confusion counts (rows: the label; columns: the network's argmax), which
// tell missed brakes from needless ones; --json always includes them.
#include "tasks/task_dataset.h"
#include "tools/command.h"
#include "tools/json_report.h"
#include "tools/network_info.h"

#include "codegen/codegen.h"
#include "neural/lower_network.h"
#include "neural/nnet.h"
#include "neural/onnx.h"
#include "neural/train.h"
#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "spec/lower.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace chassis;
using namespace chassis::tools;
using namespace chassis::tasks;

struct EvalCli {
  std::string model;
  std::vector<std::string> inputs;
  bool json = false, float32 = false, normalised = false, describe = false, confusion = false;
  std::string backend = "interp"; // --backend interp|jit
  // Dataset evaluation.
  std::string csv, label, taskFile, features, loss = "auto";
  TaskOptions task;
};

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool parseVector(const std::string& s, std::vector<double>& out, std::string& bad) {
  out.clear();
  std::stringstream ss(s);
  std::string cell;
  while (std::getline(ss, cell, ',')) {
    const char* b = cell.c_str();
    char* e = nullptr;
    errno = 0;
    double v = std::strtod(b, &e);
    if (e == b || *e != '\0' || errno == ERANGE || !std::isfinite(v)) {
      bad = cell;
      return false;
    }
    out.push_back(v);
  }
  return true;
}

std::string num(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
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

/// Accuracy and loss of `net` on a CSV or .chs-task dataset.
int runDataset(EvalCli& c, const neural::Network& net) {
  neural::Dataset data;
  bool classes = true;
  std::string dataName;
  if (!c.taskFile.empty()) {
    c.task.label = c.label;
    if (!c.features.empty()) {
      std::stringstream ss(c.features);
      std::string cell;
      while (std::getline(ss, cell, ','))
        c.task.features.push_back(cell);
    }
    spec::DiagnosticEngine diags;
    TaskDataset td;
    if (auto st = loadTaskDataset(c.taskFile, c.task, diags, td); st != LoadStatus::Ok)
      return st == LoadStatus::RunFailed ? kFailure : kUsage;
    data = std::move(td.data);
    classes = td.kind == LabelKind::Class;
    dataName = c.taskFile;
  } else {
    auto d = neural::loadCsv(c.csv, c.label);
    if (!d) {
      std::cerr << d.error().str() << "\n";
      return kUsage;
    }
    data = std::move(*d);
    // A network with several outputs and one label column is a classifier.
    classes = data.Y.cols() == 0 && net.outputSize() > 1;
    dataName = c.csv;
  }
  if (c.loss == "ce")
    classes = true;
  else if (c.loss == "mse")
    classes = false;
  else if (c.loss != "auto") {
    std::cerr << "error: --loss must be auto, ce or mse, got '" << c.loss << "'\n";
    return kUsage;
  }
  if (net.inputSize() != data.numFeatures()) {
    std::cerr << "error: the network takes " << net.inputSize() << " inputs; " << dataName
              << " has " << data.numFeatures() << " features\n";
    return kUsage;
  }
  if (classes) {
    if (data.Y.cols() > 0) {
      std::cerr << "error: a vector label is a regression target, not a class (use --loss mse)\n";
      return kUsage;
    }
    for (int i = 0; i < data.size(); ++i) {
      const double v = data.y[i];
      if (v < 0 || v != std::floor(v) || v >= net.outputSize()) {
        Error e("class label " + num(v) + " of '" + data.labelName + "' is not one of the " +
                std::to_string(net.outputSize()) + " classes the network scores");
        if (!data.lines.empty())
          e.loc = SourceLoc{c.csv, data.lines[size_t(i)],
                            data.labelCols.empty() ? 0 : data.labelCols[size_t(i)]};
        std::cerr << e.str() << "\n";
        return kUsage;
      }
    }
  } else if (net.outputSize() != data.numTargets()) {
    std::cerr << "error: the network has " << net.outputSize() << " outputs; the label has "
              << data.numTargets() << " values\n";
    return kUsage;
  }
  Eigen::MatrixXd Y =
      c.float32 ? Eigen::MatrixXd(net.forward(Eigen::MatrixXf(data.X.cast<float>())).cast<double>())
                : net.forward(data.X);
  const auto [loss, acc] =
      neural::score(Y, data, classes ? neural::LossKind::CrossEntropy : neural::LossKind::Mse);
  // Confusion counts: row = the label, column = the network's argmax (ties: the first).
  const int K = static_cast<int>(Y.cols());
  std::vector<std::vector<long>> confusion;
  std::vector<std::string> names;
  if (classes) {
    confusion.assign(size_t(K), std::vector<long>(size_t(K), 0));
    for (int i = 0; i < data.size(); ++i) {
      Eigen::Index arg;
      Y.row(i).maxCoeff(&arg);
      ++confusion[size_t(data.y[i])][size_t(arg)];
    }
    for (int k = 0; k < K; ++k)
      names.push_back(k < static_cast<int>(data.classNames.size()) ? data.classNames[size_t(k)]
                                                                   : std::to_string(k));
  }
  if (c.json) {
    nlohmann::ordered_json j;
    j["model"] = c.model;
    j["data"] = dataName;
    j["samples"] = data.size();
    j["precision"] = c.float32 ? "float32" : "float64";
    j["loss_kind"] = classes ? "cross_entropy" : "mse";
    j["loss"] = std::isfinite(loss) ? nlohmann::ordered_json(loss) : nlohmann::ordered_json();
    j["accuracy"] = acc;
    if (classes) {
      j["classes"] = names;
      j["confusion"] = confusion;
    }
    printReport("eval", c.model, nlohmann::ordered_json::object(), j);
  } else if (classes) {
    std::cout << "accuracy: " << pct(acc) << " (" << data.size() << " samples), loss: " << g6(loss)
              << "\n";
    if (c.confusion) {
      size_t w = 8;
      for (const std::string& n : names)
        w = std::max(w, n.size() + 2);
      auto cell = [&](const std::string& t) {
        return std::string(w > t.size() ? w - t.size() : 0, ' ') + t;
      };
      std::cout << "confusion (rows: label; columns: the network's class):\n" << cell("");
      for (const std::string& n : names)
        std::cout << cell(n);
      std::cout << "\n";
      for (int a = 0; a < K; ++a) {
        std::cout << cell(names[size_t(a)]);
        for (int b = 0; b < K; ++b)
          std::cout << cell(std::to_string(confusion[size_t(a)][size_t(b)]));
        std::cout << "\n";
      }
    }
  } else {
    std::cout << "mse: " << g6(loss) << " (" << data.size()
              << " samples), accuracy (|error| < 0.5): " << pct(acc) << "\n";
  }
  return kOk;
}

/// --backend jit: the network declared as `network Net(x: real[n]) -> (y: real[m]) =
/// onnx("NET")` (or nnet, raw inputs), lowered to the IR (neural/lower_network.h) and compiled by
/// LLVM (codegen/codegen.h JitFunction), run row by row: float64 with the IR's sums in order, the
/// values `chassis run --backend jit` and `chassis compile` give for that declaration. The
/// interp forward sums through Eigen's kernels, so the two may differ in the last bits.
Expected<Eigen::MatrixXd> jitForward(const std::string& model, const neural::Network& net, bool nnet,
                                     const Eigen::MatrixXd& X, Eigen::Index outputs) {
  std::string quoted;
  for (char ch : std::filesystem::absolute(model).string()) {
    if (static_cast<unsigned char>(ch) < 0x20)
      return Error("eval --backend jit: the network's path has a control character");
    if (ch == '"' || ch == '\\') quoted += '\\';
    quoted += ch;
  }
  const std::string src = "network Net(x: real[" + std::to_string(X.cols()) + "]) -> (y: real[" +
                          std::to_string(outputs) + "]) = " + (nnet ? "nnet" : "onnx") + "(\"" +
                          quoted + "\");\n";
  spec::DiagnosticEngine diags;
  auto ast = spec::fromString(src, model + " (eval --backend jit)", diags);
  if (!ast) return ast.error();
  ir::LowerOptions options;
  if (nnet) {
    // The declaration's loader folds the NNet normalisation into the layers and clamps the
    // inputs: it reads the file again (eval's network keeps them as layers of its own).
    options.networkLoader = neural::networkLoader();
  } else {
    // The ONNX network is already loaded: lower it, not a second copy read from the file.
    options.networkLoader = [&net, &model](const spec::NetworkDecl& d,
                                           ir::Program& program) -> Expected<const ir::Function*> {
      auto an = neural::toAffineNet(net);
      if (!an)
        return Error(d.pathLoc,
                     "network '" + d.name + "': " + model + ": " + an.error().message);
      return neural::lowerAffineNet(*an, std::nullopt, d, program);
    };
  }
  auto prog = ir::lower(*ast, options);
  if (!prog) return prog.error();
  auto jit = codegen::JitFunction::create(*prog->findFunction("Net"));
  if (!jit) return jit.error();
  Eigen::MatrixXd Y(X.rows(), outputs);
  std::vector<double> in(static_cast<size_t>(X.cols())), out((*jit)->numOutputs() + 1);
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    for (Eigen::Index j = 0; j < X.cols(); ++j)
      in[static_cast<size_t>(j)] = X(i, j);
    if (int rc = (**jit)(in.data(), out.data()); rc != codegen::kOk)
      return Error("eval --backend jit: row " + std::to_string(i + 1) + ": the compiled network "
                   "failed (" + std::string(codegen::errorCodeName(rc)) + ")");
    for (Eigen::Index k = 0; k < outputs; ++k)
      Y(i, k) = out[static_cast<size_t>(k)];
  }
  return Y;
}

int runEval(EvalCli& c) {
  if (c.backend != "interp" && c.backend != "jit") {
    std::cerr << "error: --backend takes interp or jit, got '" << c.backend << "'\n";
    return kUsage;
  }
  if (c.backend == "jit" && (c.float32 || c.normalised || !c.csv.empty() || !c.taskFile.empty())) {
    std::cerr << "error: --backend jit evaluates --input rows in float64 (NNet: on raw inputs); "
                 "--float32, --normalised, --csv and --task run on --backend interp\n";
    return kUsage;
  }
  Expected<neural::Network> net =
      endsWith(c.model, ".nnet")
          ? neural::loadNNet(c.model, c.normalised ? neural::NNetInputs::Normalised
                                                   : neural::NNetInputs::Raw)
          : neural::loadOnnx(c.model);
  if (!net) {
    std::cerr << net.error().str() << "\n";
    return kUsage;
  }
  const int sources = !c.inputs.empty() + !c.csv.empty() + !c.taskFile.empty();
  if (sources > 1) {
    std::cerr << "error: give one of --input, --csv or --task\n";
    return kUsage;
  }
  if ((!c.csv.empty() || !c.taskFile.empty()) && c.label.empty()) {
    std::cerr << "error: --csv and --task need --label\n";
    return kUsage;
  }
  if (!c.taskFile.empty() && c.task.inputs.empty()) {
    std::cerr << "error: --task needs --inputs Module (the module the inputs are drawn from)\n";
    return kUsage;
  }
  if (c.taskFile.empty() &&
      (!c.task.inputs.empty() || !c.task.box.empty() || !c.features.empty())) {
    std::cerr << "error: --inputs, --features and --box describe a .chs task (--task FILE)\n";
    return kUsage;
  }
  if (c.describe) {
    std::cout << net->describe();
    // What `chassis train` recorded about the network (tools/network_info.h).
    auto info = readNetworkInfo(c.model);
    if (!info) {
      std::cerr << info.error().str() << "\n";
      return kUsage;
    }
    std::cout << describeNetworkInfo(*info);
  }
  if (!c.csv.empty() || !c.taskFile.empty()) return runDataset(c, *net);
  if (c.inputs.empty()) {
    if (c.describe) return kOk;
    std::cerr << "error: give at least one --input (" << net->inputSize()
              << " numbers), or a dataset (--csv, --task)\n";
    return kUsage;
  }
  const int n = net->inputSize();
  Eigen::MatrixXd X(static_cast<Eigen::Index>(c.inputs.size()), n);
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    std::vector<double> v;
    std::string bad;
    if (!parseVector(c.inputs[i], v, bad)) {
      std::cerr << "error: --input: bad number '" << bad << "'\n";
      return kUsage;
    }
    if (static_cast<int>(v.size()) != n) {
      std::cerr << "error: --input has " << v.size() << " numbers; the network takes " << n << "\n";
      return kUsage;
    }
    for (int j = 0; j < n; ++j)
      X(i, j) = v[j];
  }
  Eigen::MatrixXd Y;
  if (c.backend == "jit") {
    auto y = jitForward(c.model, *net, endsWith(c.model, ".nnet"), X, net->outputSize());
    if (!y) {
      std::cerr << y.error().str() << "\n";
      return kUsage;
    }
    Y = std::move(*y);
  } else {
    Y = c.float32 ? Eigen::MatrixXd(net->forward(Eigen::MatrixXf(X.cast<float>())).cast<double>())
                  : net->forward(X);
  }
  if (c.json) {
    nlohmann::json j;
    j["model"] = c.model;
    j["precision"] = c.float32 ? "float32" : "float64";
    j["outputs"] = nlohmann::json::array();
    for (Eigen::Index i = 0; i < Y.rows(); ++i) {
      std::vector<double> row(Y.cols());
      for (Eigen::Index k = 0; k < Y.cols(); ++k)
        row[k] = Y(i, k);
      j["outputs"].push_back(row);
    }
    printReport("eval", c.model, nlohmann::ordered_json::object(), j);
  } else {
    for (Eigen::Index i = 0; i < Y.rows(); ++i) {
      for (Eigen::Index k = 0; k < Y.cols(); ++k)
        std::cout << (k ? "," : "") << num(Y(i, k));
      std::cout << "\n";
    }
  }
  return kOk;
}

chassis::tools::Registration reg{
    "eval", "Run a network (.onnx or .nnet) on inputs, or score it on a dataset",
    [](CLI::App& app) {
      auto c = std::make_shared<EvalCli>();
      app.add_option("model", c->model, "Network file (.onnx or .nnet)")->required();
      app.add_option("--input", c->inputs, "Comma-separated input values (repeatable)");
      app.add_flag("--json", c->json, "Print the outputs as JSON");
      app.add_flag("--float32", c->float32, "Evaluate in float32 (default float64)");
      app.add_option("--backend", c->backend,
                     "interp (default: the network's layers on the float32/float64 kernels) or "
                     "jit: the network compiled by LLVM, float64 in the IR's summation order, as "
                     "`run --backend jit` of a declared network computes it (--input rows only)");
      app.add_flag("--normalised", c->normalised,
                   "NNet: the inputs are already normalised (no clamp/normalisation/output scale)");
      app.add_flag("--describe", c->describe, "Print the network's layers and shapes");
      app.add_option("--csv", c->csv, "Score the network on this CSV dataset (with --label)");
      app.add_option("--task", c->taskFile,
                     "Score the network on a dataset drawn from this .chs task (with --inputs, "
                     "--label; as for chassis train)");
      app.add_option("--label", c->label,
                     "CSV: the label column(s); task: Module.output computing the label");
      app.add_option("--inputs", c->task.inputs, "Task: the module the inputs are drawn from");
      app.add_option("--features", c->features,
                     "Task: comma-separated feature names (as for chassis train)");
      app.add_option("--box", c->task.box, "Task: NAME=LO:HI sampling box override (repeatable)");
      app.add_option("--samples", c->task.samples, "Task: number of samples (2000)");
      app.add_option("--seed", c->task.seed, "Task: random seed of the samples (1)");
      app.add_flag("--confusion", c->confusion,
                   "Classification: also print the confusion counts (label x network class)");
      app.add_option("--loss", c->loss,
                     "auto, ce or mse; auto: ce for a bool/enum task label or a network with "
                     "several outputs and one label column");
      return [c]() -> int { return runEval(*c); };
    }};

} // namespace
