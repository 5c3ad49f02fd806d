// `chassis vnnlib NET.onnx|NET.nnet PROP.vnnlib [--timeout S] [-o|--output|--out result.txt]
//                [--naive] [--threads N] [--emit=smt2] [--json] [--record-tree FILE]`: decides a
// VNN-LIB property of an ONNX network (or an NNet file's layers on normalised inputs) and writes the
// VNN-COMP result (`unsat`, `sat` with the counterexample `((X_0 v) ... (Y_0 v) ...)`, `timeout`
// or `unknown`) to standard output (with a last line giving the time taken) and, with --out, the
// result alone to the file. The verifier already replays each counterexample through the folded
// AffineNet; here it is replayed once more through the ONNX graph itself (neural::Network,
// float64), so a folding bug cannot produce a false `sat`, and checked in exact real arithmetic
// (Z3Encoder::checkPoint). A point either check rejects lies within rounding of the unsafe set's
// boundary: a point deeper inside is searched (verifier::deepenCounterexample), else the result
// is `unknown` with the reason.
// --emit=smt2 solves nothing: it writes the naive Z3 query (z3_encoder.h: every ReLU an
// if-then-else, no bounds, exact rationals of the float64 weights) of each case of the property
// as SMT-LIB2 — to --out FILE, else standard output — one `(check-sat)` per case, the cases
// separated by `(reset)`. `z3 -smt2 FILE` prints one answer per case; the property is violated
// (`sat`) iff some case answers sat, and holds (`unsat`) iff every case answers unsat.
// --timeout S is the instance's own limit (verdict `timeout`, exit 3, as VNN-COMP wants);
// --time-limit S / --memory MB (tools/run_limits.h) and SIGINT/SIGTERM stop the whole run: the
// verdict printed is `timeout` or `unknown` with the stop's reason, --out is not written, and the
// exit code is 124 / 5 / 130 / 143. --out is written atomically (never half a file).
// Under `mpirun -np N` the ranks share the branch and bound of the instance (tools/mpi_search.h;
// rank 0 prints and writes). --record-tree FILE writes every processed sub-domain (CSV id,parent,
// rank,seconds,outcome) for bench/distributed/simulate.
// --json prints the report envelope (tools/json_report.h) with the verdict and the counterexample
// as float64 numbers ({"x": [...], "y": [...]}) instead of the text; errors as {"error": ...}.
// Exit codes: 0 unsat (or emitted), 1 sat, 3 timeout/unknown, 2 bad input or options,
// 4 internal error.
#include "tools/campaign.h"
#include "tools/command.h"
#include "tools/json_report.h"
#include "tools/network_info.h"
#include "tools/mpi_search.h"
#include "tools/mpi_world.h"
#include "tools/output_file.h"
#include "tools/run_limits.h"

#include "neural/nnet.h"
#include "neural/onnx.h"
#include "spec/vnnlib.h"
#include "verifier/network_verifier.h"
#include "verifier/problem.h"
#include "verifier/replay.h"
#include "verifier/vnnlib_query.h"
#include "verifier/z3_encoder.h"

#include <chrono>
#include <cstdio>
#include <iostream>

namespace {

using namespace chassis;

/// --emit=smt2: the naive query of every case, one after another.
int emitSmt2(const neural::AffineNet& net, const verifier::NetworkQuery& query,
             const std::string& netPath, const std::string& propPath, const std::string& outPath) {
  if (query.numInputs != net.inputSize || query.numOutputs != net.outputSize()) {
    std::cerr << propPath << ": error: the property has " << query.numInputs << " inputs and "
              << query.numOutputs << " outputs, the network " << net.inputSize << " and "
              << net.outputSize() << "\n";
    return tools::kUsage;
  }
  verifier::Z3Encoder z3(net);
  std::string text = "; chassis vnnlib --emit=smt2: " + netPath + " " + propPath + "\n; " +
                     std::to_string(query.cases.size()) +
                     " case(s), one check-sat each: the property is violated iff some case is "
                     "sat\n";
  for (size_t i = 0; i < query.cases.size(); ++i) {
    std::string q = z3.naiveSmt2(query.cases[i]);
    // The encoder's error texts (a z3 exception, or canceled); Z3's own text starts with "; \n".
    if (q.rfind("; z3 error", 0) == 0 || q.rfind("; canceled", 0) == 0) {
      std::cerr << netPath << ": error: internal: cannot encode case " << i << ": " << q;
      return tools::kInternal;
    }
    if (i > 0) text += "(reset)\n";
    text += "; case " + std::to_string(i) + "\n" + q;
    if (!q.empty() && q.back() != '\n') text += "\n";
  }
  if (outPath.empty()) {
    std::cout << text;
    return tools::kOk;
  }
  return tools::writeFileAtomic(outPath, text) ? tools::kOk : tools::kUsage;
}

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

int runVnnlib(const std::string& netPath, const std::string& propPath, double timeout,
              const std::string& outPath, bool naive, int threads, const std::string& emit,
              bool asJson, std::string* resultText = nullptr, bool shareRanks = false,
              const std::string& recordTree = "", int rootsRank = 0) {
  // Under --json an error is also a JSON object on standard output (json_report.h).
  auto fail = [&](const Error& e, int code) {
    std::cerr << e.str() << "\n";
    return asJson ? tools::printJsonError(e, code) : code;
  };
  if (!emit.empty() && emit != "smt2")
    return fail(Error("--emit supports only smt2, not '" + emit + "'"), tools::kUsage);
  if (asJson && !emit.empty())
    return fail(Error("--json reports a verdict; --emit=smt2 solves nothing"), tools::kUsage);
  // Fail early, not after a long run, when the result file cannot be written.
  if (!outPath.empty() && !tools::checkWritable({outPath})) return tools::kUsage;
  // The instance's time limit counts from here, as VNN-COMP's does: loading a conv net and
  // reading a property of thousands of asserts take seconds of it.
  const auto start = std::chrono::steady_clock::now();
  if (!recordTree.empty() && (naive || !emit.empty()))
    return fail(Error("--record-tree records the branch and bound, which --naive and --emit do "
                      "not run"),
                tools::kUsage);
  if (!recordTree.empty() && tools::mpi::rank() == 0 && !tools::checkWritable({recordTree}))
    return tools::kUsage;
  // An NNet file is verified as the function of its layers on normalised inputs (the function
  // the ACAS Xu ONNX files compute; the raw form's input clamp is not piecewise affine in the
  // verifier's sense), as `chassis eval --normalised` runs it.
  auto network = endsWith(netPath, ".nnet")
                     ? neural::loadNNet(netPath, neural::NNetInputs::Normalised)
                     : neural::loadOnnx(netPath);
  if (!network) return fail(network.error(), tools::kUsage);
  auto affine = neural::toAffineNet(*network);
  if (!affine) return fail(affine.error(), tools::kUsage);
  auto prop = spec::readVnnlib(propPath);
  if (!prop) return fail(prop.error(), tools::kUsage);
  SourceLoc propFile;
  propFile.file = propPath;
  const verifier::NetworkQuery query = verifier::toNetworkQuery(*prop, propFile);
  if (emit == "smt2") return emitSmt2(*affine, query, netPath, propPath, outPath);
  verifier::NetVerifyOptions opt;
  const double loadSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  opt.timeoutSec = std::max(0.0, timeout - loadSeconds);
  opt.naive = naive;
  opt.threads = threads;
  // Under mpirun the ranks share the search (tools/mpi_search.h): rank 0 owns the result.
  if (shareRanks && !naive && tools::mpi::worldSize() > 1 && tools::mpi::rank() != 0) {
    tools::serveSharedSearch(*affine, query, opt, !recordTree.empty(), rootsRank);
    return tools::kOk;
  }
  // (A campaign's instance runs whole on the rank it was given: shareRanks is false there; its
  // attack beside the search keeps a full core only if the host has one to spare.)
  if (!shareRanks && !naive) tools::capAttackWithoutSpareCore(opt, true);
  std::vector<tools::RankSummary> ranks;
  auto res = naive || !shareRanks
                 ? verifier::verifyNetwork(*affine, query, opt)
                 : tools::verifyShared(*affine, query, opt, recordTree, rootsRank, &ranks);
  if (!res) {
    Error e = res.error();
    if (e.loc.file.empty()) e.loc.file = propPath;
    return fail(e, tools::kUsage);
  }
  if (res->verdict == verifier::Verdict::Violated) {
    const verifier::CaseSpec& cs = query.cases.at(size_t(res->caseIndex));
    if (!((res->x.array() >= cs.box.lo.array()).all() &&
          (res->x.array() <= cs.box.hi.array()).all())) {
      SourceLoc at;
      at.file = netPath;
      return fail(Error(at, "internal: the counterexample is outside the case's box"),
                  tools::kInternal);
    }
    // Independent replay through the ONNX graph in float64 (a case without output constraints,
    // a box-only property, holds at every point of its box) and, as the verdict is about real
    // arithmetic on the weights (spec/LANGUAGE.md §8-9), a check in exact rationals.
    verifier::Z3Encoder exact(*affine);
    std::string failure; // why the last point tried was not confirmed
    auto confirmed = [&](const Eigen::VectorXd& x) {
      Eigen::VectorXd y = network->forward(x);
      if (cs.C.rows() != 0 && !((cs.C * y - cs.d).maxCoeff() <= 0.0)) {
        failure = "the ONNX graph's float64 pass puts it outside the unsafe set";
        return false;
      }
      verifier::LeafResult pt = exact.checkPoint(cs, x, std::max(10.0, timeout));
      if (pt.status != verifier::Verdict::Violated)
        failure = "in exact real arithmetic it is not in the unsafe set" +
                  (pt.reason.empty() ? std::string() : " (" + pt.reason + ")");
      return pt.status == verifier::Verdict::Violated;
    };
    if (!confirmed(res->x)) {
      std::string why = failure;
      // Too close to the boundary for the ONNX graph's own rounding or for the reals: a point
      // deeper inside the unsafe set (verifier/replay.h), else `unknown` with the reason. Only
      // a folded network far from the graph is a bug.
      Eigen::VectorXd yOnnx = network->forward(res->x), yFold = affine->forward(res->x);
      double gap = (yOnnx - yFold).cwiseAbs().maxCoeff();
      if (!(gap <= 1e-6 * (1.0 + yFold.cwiseAbs().maxCoeff()))) {
        SourceLoc at;
        at.file = netPath;
        return fail(Error(at, "internal: the folded network and the ONNX graph differ by " +
                                  std::to_string(gap) + " at the counterexample"),
                    tools::kInternal);
      }
      if (auto deeper = verifier::deepenCounterexample(*affine, cs, res->x, confirmed)) {
        res->x = *deeper;
      } else {
        res->verdict = verifier::Verdict::Unknown;
        res->reason = "the point found violates the property in the folded network's float64 "
                      "pass only within rounding of the boundary (" +
                      why + "), and no point deeper inside the violating region was found";
      }
    }
    if (res->verdict == verifier::Verdict::Violated) res->y = network->forward(res->x);
  }
  std::string text = verifier::vnncompResult(*res);
  if (resultText) *resultText = text;
  int code = run::stopRequested()                       ? tools::stopExitCode()
             : res->verdict == verifier::Verdict::Holds ? int(tools::kOk)
             : res->verdict == verifier::Verdict::Violated   ? int(tools::kFailure)
                                                        : int(tools::kUnknown);
  if (asJson) {
    // The counterexample as float64 numbers (the same doubles as the VNN-COMP text's %.17g).
    nlohmann::ordered_json r, options, summary;
    r["property"] = propPath;
    r["verdict"] = std::string(verifier::vnncompName(res->verdict));
    if (!res->reason.empty()) r["reason"] = res->reason;
    r["seconds"] = res->seconds;
    r["load_seconds"] = loadSeconds;
    r["domains"] = res->domains;
    r["leaves"] = res->leaves;
    r["lp_solves"] = res->lpSolves;
    r["lp_closed"] = res->lpClosed;
    if (!res->rootLp.empty()) r["root_lp"] = res->rootLp;
    if (!ranks.empty()) { // under mpirun (or --record-tree): each rank's share, how it ended
      nlohmann::ordered_json rs = nlohmann::ordered_json::array();
      for (const tools::RankSummary& k : ranks) {
        nlohmann::ordered_json one = {
            {"rank", k.rank},         {"domains", k.domains},
            {"ended", k.ended},       {"steals", k.steals},
            {"received", k.received}, {"received_from_workers", k.fromWorkers},
            {"given", k.given}};
        // Where its time went (tools/mpi_search.h's RankSummary; bench/distributed/run).
        one["time"] = {{"started", k.started},         {"ready", k.ready},
                       {"search_start", k.searchStart}, {"search_end", k.searchEnd},
                       {"busy_seconds", k.busySeconds}};
        one["cpu"] = {{"ready", k.cpuReady},
                      {"search_start", k.cpuSearchStart},
                      {"search_end", k.cpuSearchEnd},
                      {"workers", k.workerCpu},
                      {"poll", k.pollCpu}};
        if (k.attackDuty >= 0) one["attack_duty"] = k.attackDuty;
        rs.push_back(one);
      }
      r["ranks"] = rs;
    }
    if (res->verdict == verifier::Verdict::Violated) {
      r["case"] = res->caseIndex;
      nlohmann::ordered_json x = nlohmann::ordered_json::array(),
                             y = nlohmann::ordered_json::array();
      for (Eigen::Index i = 0; i < res->x.size(); ++i)
        x.push_back(tools::jsonNumber(res->x[i]));
      for (Eigen::Index i = 0; i < res->y.size(); ++i)
        y.push_back(tools::jsonNumber(res->y[i]));
      r["counterexample"] = {{"x", x}, {"y", y}};
    }
    options["property"] = propPath;
    options["timeout"] = timeout;
    options["naive"] = naive;
    options["threads"] = threads;
    summary["verdict"] = r["verdict"];
    summary["stopped"] = run::stopRequested();
    summary["exit_code"] = code;
    std::cout << tools::jsonText(tools::jsonEnvelope("vnnlib", netPath, options,
                                                     nlohmann::ordered_json::array({r}), summary))
              << "\n";
  } else {
    std::cout << text;
    char buf[160];
    std::snprintf(buf, sizeof buf, "time: %.3f s (%ld domains, %ld z3 leaves, %ld LPs closing %ld)",
                  res->seconds, res->domains, res->leaves, res->lpSolves, res->lpClosed);
    std::cout << buf;
    if (!res->reason.empty()) std::cout << "; " << res->reason;
    if (!res->rootLp.empty()) std::cout << "; root LP: " << res->rootLp;
    std::cout << "\n";
  }
  if (run::stopRequested()) return code; // no result file for a cut-short run
  if (!outPath.empty() && !tools::writeFileAtomic(outPath, text)) return tools::kUsage;
  return code;
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
      auto emit = std::make_shared<std::string>();
      auto json = std::make_shared<bool>(false);
      auto recordTree = std::make_shared<std::string>();
      app.add_option("network", *net,
                     "the network: ONNX, or NNet (.nnet: its layers on normalised inputs)")
          ->check(CLI::ExistingFile);
      app.add_option("property", *prop, "VNN-LIB property");
      auto campaign = std::make_shared<tools::CampaignOptions>();
      tools::addCampaignOptions(app, *campaign); // tools/campaign.h
      campaign->timeout = app.add_option("--timeout", *timeout,
                     "the instance's time limit in seconds (default 60): then `timeout`, exit 3; "
                     "--time-limit stops the whole run (exit 124)")
          ->check(CLI::Validator(
              [](std::string& v) -> std::string {
                double x = 0;
                return CLI::detail::lexical_cast(v, x) && x > 0
                           ? std::string()
                           : "must be a positive number of seconds, got " + v;
              },
              "", "positive"));
      auto limits = std::make_shared<run::Limits>();
      tools::addRunLimitOptions(app, *limits, false);
      app.add_option("-o,--output,--out", *out,
                     "write the VNN-COMP result (with --emit=smt2: the SMT-LIB2) to this file");
      app.add_flag("--json", *json,
                   "print the result as JSON (the counterexample as float64 numbers) instead "
                   "of the VNN-COMP text; --out still gets the VNN-COMP text");
      auto verbose = std::make_shared<bool>(false);
      app.add_flag("--verbose", *verbose,
                   "first print the network's layers and what `chassis train` recorded about it "
                   "(ONNX metadata: features, ranges, classes) on stderr");
      app.add_flag("--naive", *naive, "baseline: one Z3 query, ReLU as if-then-else, no bounds");
      app.add_option("--threads", *threads, "worker threads (default 2)")->check(CLI::Range(1, 64));
      app.add_option("--record-tree", *recordTree,
                     "write every sub-domain the branch and bound processed to this CSV file "
                     "(id,parent,rank,seconds,outcome; under mpirun every rank's), for "
                     "bench/distributed/simulate");
      // For tests of the shared search only (tools/mpi_search.h): the root domains start on
      // this rank, without the attacks, and rank 0 only brokers.
      auto rootsRank = std::make_shared<int>(0);
      app.add_option("--roots-on-rank", *rootsRank)->group("")->check(CLI::NonNegativeNumber);
      app.add_option("--emit", *emit,
                     "smt2: write the naive Z3 query of each case as SMT-LIB2 (one (check-sat) "
                     "per case; `z3 -smt2 FILE`: sat in some case iff violated) and stop");
      return [=]() {
        return tools::runLimited("vnnlib", *limits, [=] {
          campaign->timeoutValue = *timeout;
          if (!campaign->instances.empty() || net->empty() || prop->empty()) {
            if (!recordTree->empty()) {
              std::cerr << "chassis vnnlib: error: --record-tree records one instance's search, "
                           "not a campaign's\n";
              return int(tools::kUsage);
            }
            if (*json) {
              std::cerr << "chassis vnnlib: error: --json prints one instance's result; a "
                           "campaign writes its rows to --results\n";
              return int(tools::kUsage);
            }
            return tools::runCampaign(*campaign, [=](auto& n, auto& p, double t, auto& text) {
              return runVnnlib(n, p, t, "", *naive, *threads, "", false, &text);
            });
          }
          if (*verbose)
            if (auto d = tools::describeNetworkFile(*net)) std::cerr << *d;
          if (*rootsRank >= std::max(1, tools::mpi::worldSize())) {
            std::cerr << "chassis vnnlib: error: --roots-on-rank " << *rootsRank
                      << ": there are only " << tools::mpi::worldSize()
                      << " rank(s) (a test option of the shared search under mpirun)\n";
            return int(tools::kUsage);
          }
          return runVnnlib(*net, *prop, *timeout, *out, *naive, *threads, *emit, *json, nullptr,
                           true, *recordTree, *rootsRank);
        });
      };
    }};

} // namespace
