// `chassis vnnlib NET.onnx PROP.vnnlib [--timeout S] [--out result.txt] [--naive]`: decides a
// VNN-LIB property of an ONNX network and writes the VNN-COMP result (`unsat`, `sat` with the
// counterexample `((X_0 v) ... (Y_0 v) ...)`, `timeout` or `unknown`). The verifier already
// replays each counterexample through the folded AffineNet; here it is replayed once more
// through the ONNX graph itself (neural::Network, float64), so a folding bug cannot produce a
// false `sat`. Exit codes: 0 unsat, 1 sat, 3 timeout/unknown, 2 bad input, 4 internal error.
#include "tools/command.h"

#include "neural/onnx.h"
#include "spec/vnnlib.h"
#include "verifier/network_verifier.h"
#include "verifier/problem.h"

#include <cstdio>
#include <fstream>
#include <iostream>

namespace {

using namespace chassis;

int runVnnlib(const std::string& netPath, const std::string& propPath, double timeout,
              const std::string& outPath, bool naive, int threads) {
  auto network = neural::loadOnnx(netPath);
  if (!network) {
    std::cerr << network.error().str() << "\n";
    return tools::kUsage;
  }
  auto affine = neural::toAffineNet(*network);
  if (!affine) {
    std::cerr << affine.error().str() << "\n";
    return tools::kUsage;
  }
  auto prop = spec::readVnnlib(propPath);
  if (!prop) {
    std::cerr << prop.error().str() << "\n";
    return tools::kUsage;
  }
  verifier::VerifyOptions opt;
  opt.timeoutSec = timeout;
  opt.naive = naive;
  opt.threads = threads;
  auto res = verifier::verifyNetwork(*affine, *prop, opt);
  if (!res) {
    Error e = res.error();
    if (e.loc.file.empty()) e.loc.file = propPath;
    std::cerr << e.str() << "\n";
    return tools::kUsage;
  }
  if (res->verdict == verifier::Verdict::Sat) {
    // Independent replay through the ONNX graph in float64.
    Eigen::VectorXd y = network->forward(res->x);
    auto cs = verifier::toCaseSpec(prop->cases.at(res->caseIndex), prop->numOutputs);
    bool inBox = (res->x.array() >= cs.box.lo.array()).all() &&
                 (res->x.array() <= cs.box.hi.array()).all();
    bool holds = (cs.C * y - cs.d).maxCoeff() <= 0.0 || cs.C.rows() == 0;
    if (!inBox || !holds) {
      std::cerr << netPath << ": error: internal: the counterexample does not replay through the "
                << "ONNX graph (in box: " << inBox << ", constraints: " << holds << ")\n";
      return tools::kInternal;
    }
    res->y = y;
  }
  std::string text = verifier::vnncompResult(*res);
  if (!outPath.empty()) {
    std::ofstream f(outPath);
    if (!f || !(f << text)) {
      std::cerr << outPath << ": error: cannot write the result file\n";
      return tools::kUsage;
    }
  }
  std::cout << text;
  char buf[160];
  std::snprintf(buf, sizeof buf, "time: %.3f s (%ld domains, %ld z3 leaves)", res->seconds,
                res->domains, res->leaves);
  std::cout << buf;
  if (!res->reason.empty()) std::cout << "; " << res->reason;
  std::cout << "\n";
  switch (res->verdict) {
  case verifier::Verdict::Unsat: return tools::kOk;
  case verifier::Verdict::Sat: return tools::kFailure;
  default: return tools::kUnknown;
  }
}

chassis::tools::Registration reg{
    "vnnlib", "Verify a VNN-LIB property of an ONNX network (VNN-COMP result format)",
    [](CLI::App& app) {
      auto net = std::make_shared<std::string>();
      auto prop = std::make_shared<std::string>();
      auto out = std::make_shared<std::string>();
      auto timeout = std::make_shared<double>(60.0);
      auto naive = std::make_shared<bool>(false);
      auto threads = std::make_shared<int>(2);
      app.add_option("network", *net, "ONNX network")->required()->check(CLI::ExistingFile);
      app.add_option("property", *prop, "VNN-LIB property")->required();
      app.add_option("--timeout", *timeout, "time limit in seconds (default 60)")
          ->check(CLI::PositiveNumber);
      app.add_option("--out", *out, "write the VNN-COMP result to this file");
      app.add_flag("--naive", *naive, "baseline: one Z3 query, ReLU as if-then-else, no bounds");
      app.add_option("--threads", *threads, "worker threads (default 2)")->check(CLI::Range(1, 64));
      return [=]() { return runVnnlib(*net, *prop, *timeout, *out, *naive, *threads); };
    }};

} // namespace
