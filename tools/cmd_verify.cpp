// `chassis verify FILE [--property NAME] [--timeout S] [--json] [--emit=smt2 [--out DIR]]`:
// loads FILE (networks through neural::networkLoader), proves each property and each module's
// asserts (verifier/properties.h), and prints a table: property, verdict (holds, violated,
// unknown (reason), or a certified interval and whether it decides the bound), time, and the
// counterexample with the property's float64 value there (every counterexample was replayed).
// --emit=smt2 writes each Z3 query as SMT-LIB2 (to DIR/<property>.<k>.smt2, or to stdout).
// Exit codes (tools/command.h): 0 all hold, 1 some violated, 3 some unknown (none violated),
// 4 internal error (e.g. a counterexample that does not replay), 2 bad input.
#include "tools/command.h"

#include "neural/lower_network.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "verifier/properties.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace {

using namespace chassis;

std::string verdictText(const verifier::PropertyResult& r) {
  std::string v;
  if (r.isInterval) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "[%.6g, %.6g] ", r.lo, r.hi);
    v = std::string(r.statistical ? "statistical estimate " : "certified ") + buf;
    v += r.verdict == verifier::PropVerdict::Holds      ? "decides: holds"
         : r.verdict == verifier::PropVerdict::Violated ? "decides: violated"
                                                    : "does not decide";
    return v;
  }
  v = std::string(verifier::propVerdictName(r.verdict));
  if ((r.verdict == verifier::PropVerdict::Unknown || r.verdict == verifier::PropVerdict::Internal) &&
      !r.reason.empty())
    v += " (" + r.reason + ")";
  return v;
}

int verifyCommand(const std::string& file, const std::string& only, double timeout, bool asJson,
                  const std::string& emit, const std::string& outDir) {
  spec::DiagnosticEngine diags;
  auto ast = spec::loadProgram(file, diags);
  if (!ast) {
    diags.print(std::cerr);
    return tools::kUsage;
  }
  ir::LowerOptions lo;
  lo.networkLoader = neural::networkLoader();
  auto prog = ir::lower(*ast, lo);
  if (!prog) {
    diags.report(prog.error());
    diags.print(std::cerr);
    return tools::kUsage;
  }
  if (!emit.empty() && emit != "smt2") {
    std::cerr << "chassis verify: error: --emit supports only smt2\n";
    return tools::kUsage;
  }
  verifier::VerifyOptions opts;
  opts.timeoutSec = timeout;
  opts.emitSmt2 = emit == "smt2";
  std::vector<verifier::PropertyResult> results;
  bool found = only.empty();
  for (const ir::Property& p : prog->properties) {
    if (!only.empty() && p.name != only) continue;
    found = true;
    results.push_back(verifier::verifyProperty(*prog, p, opts));
  }
  if (!found) {
    std::cerr << file << ": error: no property named '" << only << "'\n";
    return tools::kUsage;
  }
  if (only.empty())
    for (auto& r : verifier::verifyAsserts(*prog, opts)) results.push_back(std::move(r));

  int code = tools::kOk;
  bool anyViolated = false, anyUnknown = false, anyInternal = false;
  for (auto& r : results) {
    anyViolated |= r.verdict == verifier::PropVerdict::Violated;
    anyUnknown |= r.verdict == verifier::PropVerdict::Unknown;
    anyInternal |= r.verdict == verifier::PropVerdict::Internal;
  }
  code = anyInternal ? tools::kInternal
         : anyViolated ? tools::kFailure
         : anyUnknown  ? tools::kUnknown
                       : tools::kOk;

  if (opts.emitSmt2) {
    for (auto& r : results)
      for (size_t k = 0; k < r.smt2.size(); ++k) {
        if (outDir.empty()) {
          std::cout << "; property " << r.name << " query " << k << "\n" << r.smt2[k] << "\n";
          continue;
        }
        std::filesystem::create_directories(outDir);
        std::ofstream f(outDir + "/" + r.name + "." + std::to_string(k) + ".smt2");
        f << r.smt2[k];
        if (!f) {
          std::cerr << "chassis verify: error: cannot write to " << outDir << "\n";
          return tools::kUsage;
        }
      }
  }
  if (asJson) {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (auto& r : results) {
      nlohmann::ordered_json o;
      o["property"] = r.name;
      o["verdict"] = std::string(verifier::propVerdictName(r.verdict));
      if (!r.reason.empty()) o["reason"] = r.reason;
      if (r.isInterval) {
        o["interval"] = {r.lo, r.hi};
        o["statistical"] = r.statistical;
        o["method"] = r.method;
      }
      o["seconds"] = r.seconds;
      if (!r.counterexample.empty()) {
        nlohmann::ordered_json cx;
        for (auto& [k, v] : r.counterexample) cx[k] = v;
        o["counterexample"] = cx;
        o["value_at_counterexample"] = r.valueAtCounterexample;
      }
      j.push_back(o);
    }
    std::cout << j.dump(2) << "\n";
    return code;
  }
  std::printf("%-26s %-60s %9s  %s\n", "property", "verdict", "time", "counterexample");
  for (auto& r : results) {
    std::string cx;
    for (auto& [k, v] : r.counterexample) cx += (cx.empty() ? "" : ", ") + k + " = " + v;
    if (!cx.empty()) cx += "  (value there in float64: " + r.valueAtCounterexample + ")";
    if (r.isInterval && !r.method.empty()) cx = r.method;
    std::printf("%-26s %-60s %8.3fs  %s\n", r.name.c_str(), verdictText(r).c_str(), r.seconds,
                cx.c_str());
  }
  return code;
}

chassis::tools::Registration reg{
    "verify", "Prove the properties and asserts of a .chs file with Z3", [](CLI::App& app) {
      auto file = std::make_shared<std::string>();
      auto only = std::make_shared<std::string>();
      auto timeout = std::make_shared<double>(60);
      auto json = std::make_shared<bool>(false);
      auto emit = std::make_shared<std::string>();
      auto out = std::make_shared<std::string>();
      app.add_option("file", *file, "the .chs file")->required();
      app.add_option("--property", *only, "check only this property");
      app.add_option("--timeout", *timeout, "seconds per property (default 60)");
      app.add_flag("--json", *json, "print the results as JSON");
      app.add_option("--emit", *emit, "smt2: write every Z3 query as SMT-LIB2");
      app.add_option("--out", *out, "directory for --emit=smt2 files (default: stdout)");
      return [=]() {
        return verifyCommand(*file, *only, *timeout, *json, *emit, *out);
      };
    }};

} // namespace
