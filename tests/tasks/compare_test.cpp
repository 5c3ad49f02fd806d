// The side-by-side comparison (tasks/compare.h) on a small comparator task: the report's numbers
// are checked as values against independent recomputation, and the analyses against each other
// (a certified bound is never below a deviation observed on data).
#include "tasks/compare.h"
#include "tasks/report.h"

#include "neural/circuit.h"
#include "neural/circuit_discovery.h"
#include "spec/diagnostics.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <set>

using namespace chassis;
using Json = nlohmann::json;

namespace {

const std::string kFile =
    std::string(CHASSIS_SOURCE_DIR) + "/tests/data/compare/small_comparator.chs";

tasks::CompareOptions quickOptions(const std::string& task) {
  tasks::CompareOptions o;
  o.task = task;
  o.samples = 600;
  o.sweep = false;
  o.propertyTimeout = 20;
  o.faithTimeout = 20;
  o.regionsNx = 8;
  o.regionsNy = 6;
  return o;
}

/// The report without its timings (which differ from run to run).
Json withoutTimes(Json j) {
  if (j.is_object()) {
    j.erase("timings");
    j.erase("seconds");
    for (auto& [k, v] : j.items())
      v = withoutTimes(v);
  } else if (j.is_array()) {
    for (auto& v : j)
      v = withoutTimes(v);
  }
  return j;
}

} // namespace

TEST_CASE("compare on a trained comparator: accuracy, verdicts, faithfulness and the leak",
          "[tasks][compare]") {
  spec::DiagnosticEngine diags;
  auto r = tasks::runCompare(kFile, quickOptions("small"), diags);
  INFO((r ? "" : r.error().str()) << diags.str());
  REQUIRE(r);
  const Json& rep = r->report;
  CHECK(rep["task"] == "small");
  CHECK(rep["label"]["classes"] == Json({"false", "true"}));
  // The module is the reference: its accuracy is exactly 1; the network learned the rule.
  CHECK(rep["accuracy"]["module"].get<double>() == 1.0);
  CHECK(rep["accuracy"]["network"].get<double>() > 0.9);
  CHECK(rep["accuracy"]["samples"].get<int>() == 600);
  // Both properties hold for the module as written.
  REQUIRE(rep["properties"].size() == 2);
  for (const Json& p : rep["properties"]) {
    CHECK(p["module"]["verdict"] == "holds");
    for (const char* who : {"network", "circuit"}) {
      const std::string v = p[who]["verdict"];
      CHECK((v == "holds" || v == "violated" || v == "unknown"));
      // A refutation on an artefact comes with its counterexample.
      if (v == "violated") CHECK(p[who].contains("counterexample"));
    }
  }
  // The circuit is a sub-network; its size is consistent with the network's.
  const Json& c = rep["artefacts"]["circuit"];
  CHECK(c["edges"].get<long>() <= c["total_edges"].get<long>());
  CHECK(c["total_edges"].get<long>() == 2 * 6 + 6 * 2);
  // Faithfulness: the certified bound is a bound, never below what the data or the attack saw.
  const Json& f = rep["faithfulness"];
  REQUIRE(f["certified_max_deviation"].is_number());
  CHECK(f["certified_max_deviation"].get<double>() + 1e-9 >= f["worst_deviation"].get<double>());
  CHECK(f["certified_max_deviation"].get<double>() + 1e-9 >= f["data_max_deviation"].get<double>());
  const double agreement = f["agreement"];
  CHECK(agreement >= 0.0);
  CHECK(agreement <= 1.0);
  // Disagreement on data implies the formal check cannot say "holds".
  if (agreement < 1.0) CHECK(f["decision_agreement"]["verdict"] != "holds");
  // The leak: certified worst case over box x box bounds the data.
  const Json& l = rep["leak"];
  REQUIRE(l["certified_max"].is_number());
  CHECK(l["certified_max"].get<double>() + 1e-9 >= l["data_max"].get<double>());
  // Decision regions: one slice over (a, b), with every cell decided for the three.
  REQUIRE(rep["regions"].size() == 1);
  const Json& g = rep["regions"][0];
  CHECK(g["x"] == "a");
  CHECK(g["y"] == "b");
  CHECK(g["module"].size() == 48);
  // The module's decision at cell (ix, iy): a <= b with a, b the cell centres.
  for (int iy = 0; iy < 6; ++iy)
    for (int ix = 0; ix < 8; ++ix) {
      const double a = 10.0 * (ix + 0.5) / 8, b = 10.0 * (iy + 0.5) / 6;
      CHECK(g["module"][size_t(iy * 8 + ix)].get<int>() == (a <= b ? 1 : 0));
    }

  // The HTML page carries the report's data and draws every region cell of the three artefacts.
  const std::string html = tasks::renderHtml(rep);
  CHECK(html.find("id=\"report-data\"") != std::string::npos);
  size_t cells = 0;
  for (size_t at = html.find("class=\"cell\""); at != std::string::npos;
       at = html.find("class=\"cell\"", at + 1))
    ++cells;
  CHECK(cells == 3 * 48);
  CHECK(html.find("clear_cases") != std::string::npos);

  // The same options give the same report (data, training and discovery are seeded).
  spec::DiagnosticEngine diags2;
  auto again = tasks::runCompare(kFile, quickOptions("small"), diags2);
  REQUIRE(again);
  CHECK(withoutTimes(again->report).dump() == withoutTimes(rep).dump());
}

TEST_CASE("compare with resample ablation: faithfulness over pairs (x, x_patch)",
          "[tasks][compare]") {
  spec::DiagnosticEngine diags;
  tasks::CompareOptions o = quickOptions("small");
  o.ablation = neural::Ablation::Resample;
  auto r = tasks::runCompare(kFile, o, diags);
  INFO((r ? "" : r.error().str()) << diags.str());
  REQUIRE(r);
  const Json& f = r->report["faithfulness"];
  INFO(f.dump());
  REQUIRE(f["certified_max_deviation"].is_number());
  CHECK(f["method"].get<std::string>().find("box x box") != std::string::npos);
  // The bound covers what the data saw (each evaluation row patched from its paired row) and the
  // worst pair found.
  CHECK(f["certified_max_deviation"].get<double>() + 1e-9 >= f["data_max_deviation"].get<double>());
  CHECK(f["certified_max_deviation"].get<double>() + 1e-9 >= f["worst_deviation"].get<double>());
  REQUIRE(f["worst_pair"]["x"].size() == 2);
  REQUIRE(f["worst_pair"]["x_patch"].size() == 2);
  const std::string v = f["decision_agreement"]["verdict"];
  CHECK((v == "holds" || v == "violated" || v == "unknown"));
  if (f["agreement"].get<double>() < 1.0) CHECK(v != "holds");
  if (v == "violated") CHECK(f["decision_agreement"]["pair"]["x_patch"].size() == 2);
  // Properties of a two-input circuit are not checked, and say why.
  for (const Json& p : r->report["properties"])
    CHECK(p["circuit"]["reason"].get<std::string>().find("second input") != std::string::npos);
}

TEST_CASE("compare on a compiled comparator: discovery recovers the ground truth",
          "[tasks][compare]") {
  spec::DiagnosticEngine diags;
  tasks::CompareOptions o = quickOptions("exact");
  o.sweep = true;
  auto r = tasks::runCompare(kFile, o, diags);
  INFO((r ? "" : r.error().str()) << diags.str());
  REQUIRE(r);
  const Json& rep = r->report;
  CHECK(rep["artefacts"]["network"]["source"] == "compile");
  // The compiled comparator is dense (every edge computes something): ACDC at the default
  // threshold keeps exactly its ground truth.
  const Json& c = rep["artefacts"]["circuit"];
  CHECK(c["ground_truth_edges"].get<long>() > 0);
  CHECK(c["ground_truth_kept"] == c["ground_truth_edges"]);
  CHECK(c["edges_beyond_ground_truth"].get<long>() == 0);
  // Exact outside a band of width 0.01: almost every held-out sample is right.
  CHECK(rep["accuracy"]["network"].get<double>() >= 0.99);
  CHECK(rep["properties"][0]["network"]["verdict"] == "holds");
  // The sweep covers three methods.
  std::set<std::string> methods;
  for (const Json& s : rep["sweep"])
    methods.insert(s["method"].get<std::string>());
  CHECK(methods == std::set<std::string>{"acdc", "eap", "magnitude"});
}

TEST_CASE("bad tasks are located errors", "[tasks][compare]") {
  spec::DiagnosticEngine diags;
  auto r = tasks::runCompare(kFile, quickOptions(""), diags);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("several tasks are declared (small, exact)") != std::string::npos);
  auto r2 = tasks::runCompare(kFile, quickOptions("nope"), diags);
  REQUIRE_FALSE(r2);
  CHECK(r2.error().message.find("no task named 'nope' (tasks: small, exact)") != std::string::npos);
}
