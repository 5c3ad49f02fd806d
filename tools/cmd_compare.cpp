// `chassis compare FILE [--task T] [--method acdc|eap|magnitude] [--ablation zero|mean|resample]
//                 [--threshold t] [--no-sweep] [--samples N] [--seed S] [--timeout S]
//                 [--faith-timeout S] [--json] [--markdown F] [--html F] [--out-dir D] [--quiet]`
// The side-by-side comparison of a task (tasks/compare.h): module, network and circuit; accuracy,
// each property's verdict on the three, circuit size, empirical and formal faithfulness, the
// leak, the size/faithfulness sweep and decision regions. Prints the terminal table (or, with
// --json, the report as JSON) to standard output; --markdown and --html write those renderings
// (tasks/report.h); --out-dir D writes all of them plus the network (network.onnx), the circuit
// (circuit.onnx, circuit.dot, circuit.chs) into D. Progress goes to standard error.
// Every output file is written whole or not at all, after the analysis; their directories are
// checked before it starts.
// --timeout is per property and artefact; --time-limit S / --memory MB (tools/run_limits.h) bound
// the whole run: stopped by them or by SIGINT/SIGTERM, it writes no file and exits 124 / 5 /
// 130 / 143.
// Exit codes: 0 the comparison ran (whatever the verdicts), 2 bad task, file or option.
#include "tools/circuit_options.h"
#include "tools/command.h"
#include "tools/json_report.h"
#include "tools/output_file.h"
#include "tools/run_limits.h"

#include "neural/network.h"
#include "neural/onnx.h"
#include "spec/diagnostics.h"
#include "tasks/compare.h"
#include "tasks/report.h"

#include <filesystem>
#include <iostream>

namespace {

using namespace chassis;
using namespace chassis::tools;

struct CompareCli {
  std::string file, task, markdown, html, outDir;
  CircuitOptions circuit;
  double timeout = 30, faithTimeout = 60;
  bool noSweep = false, json = false, quiet = false;
  run::Limits limits;
};

int runCompareCli(CompareCli& c) {
  tasks::CompareOptions o;
  o.task = c.task;
  if (!c.circuit.parse()) return kUsage;
  if (!(c.timeout > 0) || !(c.faithTimeout > 0)) {
    std::cerr << "error: --timeout and --faith-timeout must be > 0\n";
    return kUsage;
  }
  o.method = c.circuit.discovery;
  o.ablation = c.circuit.cut;
  o.threshold = c.circuit.threshold;
  o.sweep = !c.noSweep;
  o.samples = c.circuit.samples;
  o.seed = uint64_t(c.circuit.seed);
  o.propertyTimeout = c.timeout;
  o.faithTimeout = c.faithTimeout;
  if (!c.quiet) o.progress = &std::cerr;

  namespace fs = std::filesystem;
  auto inDir = [&](const char* name) { return (fs::path(c.outDir) / name).string(); };
  if (!c.outDir.empty()) {
    std::error_code ec;
    if (!fs::is_directory(c.outDir, ec) && !fs::create_directories(c.outDir, ec)) {
      std::cerr << c.outDir << ": error: cannot create the output directory\n";
      return kUsage;
    }
  }
  if (!checkWritable({c.markdown, c.html, c.outDir.empty() ? "" : inDir("report.json")}))
    return kUsage;

  spec::DiagnosticEngine diags;
  auto r = tasks::runCompare(c.file, o, diags);
  if (run::stopRequested()) return kOk; // cut short: no report, no file (run_limits.h says why)
  if (!r) {
    if (diags.errorCount() == 0) diags.report(r.error());
    diags.print(std::cerr);
    return kUsage;
  }
  const nlohmann::json& rep = r->report;
  if (c.json)
    printReport("compare", c.file, nlohmann::ordered_json{{"task", c.task}}, rep);
  else
    std::cout << tasks::renderTable(rep);
  bool ok = true;
  if (!c.markdown.empty()) ok = writeFileAtomic(c.markdown, tasks::renderMarkdown(rep)) && ok;
  if (!c.html.empty()) ok = writeFileAtomic(c.html, tasks::renderHtml(rep)) && ok;
  if (!c.outDir.empty()) {
    ok = writeFileAtomic(inDir("report.json"), rep.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n") && ok;
    ok = writeFileAtomic(inDir("report.md"), tasks::renderMarkdown(rep)) && ok;
    ok = writeFileAtomic(inDir("report.html"), tasks::renderHtml(rep)) && ok;
    ok = writeFileAtomic(inDir("circuit.dot"), r->circuitDot) && ok;
    auto saveNet = [&](const neural::AffineNet& an, const char* name, const char* file) {
      neural::Network net = neural::fromAffineNet(an, name);
      auto bytes = neural::serializeOnnx(net);
      if (!bytes) {
        std::cerr << inDir(file) << ": error: " << bytes.error().message << "\n";
        return false;
      }
      return writeFileAtomic(inDir(file), *bytes);
    };
    ok = saveNet(r->network, "network", "network.onnx") && ok;
    if (!r->circuitChs.empty()) {
      ok = saveNet(r->circuitNet, "circuit", "circuit.onnx") && ok;
      ok = writeFileAtomic(inDir("circuit.chs"), r->circuitChs) && ok;
    }
  }
  return ok ? kOk : kUsage;
}

chassis::tools::Registration reg{
    "compare",
    "Compare a task's module, network and extracted circuit side by side (accuracy, verdicts, "
    "faithfulness, the leak)",
    [](CLI::App& app) {
      auto c = std::make_shared<CompareCli>();
      app.add_option("file", c->file, "the .chs file declaring the task")->required();
      app.add_option("--task", c->task, "the task's name (default: the file's only task)");
      addCircuitOptions(app, c->circuit);
      app.add_flag("--no-sweep", c->noSweep, "skip the size/faithfulness sweep over thresholds");
      app.add_option("--timeout", c->timeout,
                     "seconds per property and artefact (--time-limit bounds the whole run)")
          ->capture_default_str();
      addRunLimitOptions(app, c->limits, false);
      app.add_option("--faith-timeout", c->faithTimeout,
                     "seconds per formal faithfulness and leak analysis")
          ->capture_default_str();
      app.add_flag("--json", c->json, "print the report as JSON");
      app.add_option("--markdown", c->markdown, "write the report as Markdown to this file");
      app.add_option("--html", c->html, "write the report as a self-contained HTML page");
      app.add_option("--out-dir", c->outDir,
                     "write report.{json,md,html}, network.onnx and circuit.{onnx,dot,chs} here");
      app.add_flag("-q,--quiet", c->quiet, "no progress lines on standard error");
      return [c]() { return runLimited("compare", c->limits, [c] { return runCompareCli(*c); }); };
    }};

} // namespace
