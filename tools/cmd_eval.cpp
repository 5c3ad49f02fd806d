// `chassis eval NET (.onnx | .nnet) --input 0.1,0.2,... [--input ...] [--json] [--float32]
//  [--normalised] [--describe]`: runs a network's forward pass on the given inputs and prints the
// outputs, one line per input (%.17g, so the doubles are exact). An NNet file is evaluated on raw
// inputs (with its clamp and normalisation) unless --normalised.
#include "tools/command.h"

#include "neural/nnet.h"
#include "neural/onnx.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace {

using namespace chassis;
using namespace chassis::tools;

struct EvalCli {
  std::string model;
  std::vector<std::string> inputs;
  bool json = false, float32 = false, normalised = false, describe = false;
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

int runEval(const EvalCli& c) {
  Expected<neural::Network> net =
      endsWith(c.model, ".nnet")
          ? neural::loadNNet(c.model, c.normalised ? neural::NNetInputs::Normalised
                                                   : neural::NNetInputs::Raw)
          : neural::loadOnnx(c.model);
  if (!net) {
    std::cerr << net.error().str() << "\n";
    return kUsage;
  }
  if (c.describe) std::cout << net->describe();
  if (c.inputs.empty()) {
    if (c.describe) return kOk;
    std::cerr << "error: give at least one --input (" << net->inputSize() << " numbers)\n";
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
  Eigen::MatrixXd Y =
      c.float32 ? Eigen::MatrixXd(net->forward(Eigen::MatrixXf(X.cast<float>())).cast<double>())
                : net->forward(X);
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
    std::cout << j.dump(2) << "\n";
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
    "eval", "Run a network (.onnx or .nnet) on inputs and print its outputs", [](CLI::App& app) {
      auto c = std::make_shared<EvalCli>();
      app.add_option("model", c->model, "Network file (.onnx or .nnet)")->required();
      app.add_option("--input", c->inputs, "Comma-separated input values (repeatable)");
      app.add_flag("--json", c->json, "Print the outputs as JSON");
      app.add_flag("--float32", c->float32, "Evaluate in float32 (default float64)");
      app.add_flag("--normalised", c->normalised,
                   "NNet: the inputs are already normalised (no clamp/normalisation/output scale)");
      app.add_flag("--describe", c->describe, "Print the network's layers and shapes");
      return [c]() -> int { return runEval(*c); };
    }};

} // namespace
