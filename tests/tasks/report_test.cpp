// Renderers of the `chassis compare` report (tasks/report.h): a full document and partial ones
// rendered as a terminal table, Markdown and HTML. Checks that the values appear in their formats
// (percentages, %.3g deviations, seconds, counterexample points named by the inputs), that missing
// fields show "—" and never throw, that Markdown tables keep one column count, that the terminal
// table fits 100 columns, and that the HTML is balanced, has one <svg> per plot, nx*ny*3 heat-map
// cells per region, the outlines of disagreeing cells, escaped text, the embedded JSON, and the
// same bytes for the same document. Writes the example to /tmp/report_example.{txt,md,html}
// to be looked at.
#include "tasks/report.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace chassis::tasks;
using nlohmann::json;

namespace {

const std::string kDash = "\xE2\x80\x94";

size_t countOf(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size()))
    ++n;
  return n;
}

// The braking controller's rule evaluated on a grid, with a few cells flipped for the network
// and the circuit, so the disagreement counts are known.
json exampleReport() {
  const int nx = 40, ny = 30;
  json module = json::array(), network = json::array(), circuit = json::array();
  for (int iy = 0; iy < ny; ++iy)
    for (int ix = 0; ix < nx; ++ix) {
      double reading = (ix + 0.5) * 200.0 / nx, speed = (iy + 0.5) * 40.0 / ny;
      int brake = reading <= speed * speed / 12.0 + 5.0 ? 1 : 0;
      module.push_back(brake);
      network.push_back(iy == 10 && ix < 3 ? 1 - brake : brake); // 3 cells differ
      circuit.push_back(iy == 20 && ix < 7 ? 1 - brake : brake); // 7 cells differ
    }
  json r = {
      {"tool", "chassis 0.1.0"},
      {"file", "examples/braking_task.chs"},
      {"task", "braking"},
      {"inputs",
       {{{"name", "reading"}, {"lo", 0}, {"hi", 200}}, {{"name", "speed"}, {"lo", 0}, {"hi", 40}}}},
      {"label",
       {{"module", "Controller"},
        {"output", "brake"},
        {"kind", "class"},
        {"classes", {"false", "true"}}}},
      {"artefacts",
       {{"module", {{"description", "Controller.brake"}, {"statements", 3}}},
        {"network",
         {{"source", "train"}, {"layers", {2, 16, 16, 2}}, {"neurons", 32}, {"edges", 320}}},
        {"circuit",
         {{"method", "acdc"},
          {"ablation", "mean"},
          {"threshold", 0.01},
          {"neurons", 9},
          {"edges", 41},
          {"weight_share", 0.62}}}}},
      {"accuracy", {{"module", 1.0}, {"network", 0.9956}, {"circuit", 0.981}, {"samples", 2000}}},
      {"properties",
       {{{"name", "brakes_when_close"},
         {"module", {{"verdict", "holds"}, {"seconds", 0.11}}},
         {"network",
          {{"verdict", "violated"},
           {"seconds", 0.8},
           {"counterexample", {{"reading", 9.5}, {"speed", 5.2}}}}},
         {"circuit", {{"verdict", "unknown"}, {"seconds", 30.0}, {"reason", "timeout"}}}},
        {{"name", "no_brake_when_far <& \"quoted\">"},
         {"module", {{"verdict", "holds"}, {"seconds", 0.05}}},
         {"network", {{"verdict", "holds"}, {"seconds", 1.7}}},
         {"circuit", {{"verdict", "holds"}, {"seconds", 0.9}}}}}},
      {"faithfulness",
       {{"empirical", 0.97},
        {"completeness", 0.9},
        {"agreement", 0.994},
        {"certified_max_deviation", 0.84},
        {"worst_deviation", 0.61},
        {"worst_point", {12.1, 30.2}},
        {"decision_agreement", {{"verdict", "violated"}, {"point", {9.9, 31.0}}}},
        {"seconds", 4.2}}},
      {"leak",
       {{"data_mean", 0.12},
        {"data_max", 0.9},
        {"decision_flip_rate", 0.03},
        {"certified_max", 1.4},
        {"worst_pair", {{"x", {1, 2}}, {"x_patch", {3, 4}}, {"value", 1.2}}},
        {"decision", {{"verdict", "violated"}}},
        {"seconds", 3.0}}},
      {"regions",
       {{{"x", "reading"},
         {"y", "speed"},
         {"x_range", {0, 200}},
         {"y_range", {0, 40}},
         {"fixed", json::object()},
         {"nx", nx},
         {"ny", ny},
         {"module", module},
         {"network", network},
         {"circuit", circuit}}}},
      {"timings",
       {{"data", 0.1},
        {"train", 2.0},
        {"extract", 0.5},
        {"properties", 3.1},
        {"faithfulness", 4.2},
        {"leak", 3.0}}},
      {"notes", {"circuit proof of brakes_when_close hit the 30 s limit"}}};
  json sweep = json::array();
  const double thresholds[] = {0.001, 0.003, 0.01, 0.03, 0.1};
  const int edges[] = {180, 96, 41, 22, 9};
  const double faith[] = {0.995, 0.99, 0.97, 0.9, 0.71};
  const double dev[] = {0.004, 0.05, 0.84, 2.5, 7.1};
  for (const char* method : {"acdc", "eap"})
    for (int i = 0; i < 5; ++i) {
      bool eap = std::string(method) == "eap";
      sweep.push_back({{"method", method},
                       {"ablation", "mean"},
                       {"threshold", thresholds[i]},
                       {"edges", edges[i] + (eap ? 5 : 0)},
                       {"neurons", 20 - 3 * i},
                       {"faithfulness", faith[i] - (eap ? 0.02 : 0.0)},
                       {"completeness", faith[i] - 0.07},
                       {"certified_max_deviation", dev[i] * (eap ? 1.5 : 1.0)},
                       {"decision_agreement", i < 2 ? "holds" : "violated"}});
    }
  r["sweep"] = sweep;
  return r;
}

// The cells of each row of every Markdown table (rows start with '|'), per table.
std::vector<std::vector<size_t>> markdownColumnCounts(const std::string& md) {
  std::vector<std::vector<size_t>> tables;
  std::istringstream in(md);
  std::string line;
  bool inTable = false;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '|') {
      inTable = false;
      continue;
    }
    if (!inTable) tables.emplace_back(), inTable = true;
    size_t bars = 0;
    for (size_t i = 0; i < line.size(); ++i)
      if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) ++bars;
    tables.back().push_back(bars - 1);
  }
  return tables;
}

size_t codePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s)
    n += (c & 0xC0) != 0x80;
  return n;
}

} // namespace

TEST_CASE("report: the terminal table of a full comparison", "[report]") {
  std::string t = renderTable(exampleReport());
  { std::ofstream("/tmp/report_example.txt") << t; }
  CHECK(t.find("chassis compare: braking") != std::string::npos);
  CHECK(t.find("100.0%") != std::string::npos);
  CHECK(t.find("99.56%") != std::string::npos);
  CHECK(t.find("98.1%") != std::string::npos);
  CHECK(t.find("holds, 0.11 s") != std::string::npos);
  CHECK(t.find("violated, 0.8 s") != std::string::npos);
  CHECK(t.find("unknown (timeout), 30 s") != std::string::npos);
  CHECK(t.find("reading=9.5, speed=5.2") != std::string::npos);
  CHECK(t.find("0.84") != std::string::npos);
  CHECK(t.find("32 neurons, 320 edges") != std::string::npos);
  CHECK(t.find("3 (0.25%)") != std::string::npos);  // network vs module: 3 of 1200 cells
  CHECK(t.find("7 (0.58%)") != std::string::npos);  // circuit vs module: 7 of 1200
  CHECK(t.find("10 (0.83%)") != std::string::npos); // circuit vs network: the two sets, disjoint
  CHECK(t.find("12.9 s") != std::string::npos);     // total of the timings
  std::istringstream in(t);
  std::string line;
  while (std::getline(in, line)) {
    INFO(line);
    CHECK(codePoints(line) <= 100);
  }
}

TEST_CASE("report: Markdown tables keep their column counts", "[report]") {
  std::string md = renderMarkdown(exampleReport());
  { std::ofstream("/tmp/report_example.md") << md; }
  CHECK(md.find("# chassis compare: braking") != std::string::npos);
  CHECK(md.find("| module | network | circuit |") != std::string::npos);
  CHECK(md.find("| 100.0% | 99.56% | 98.1% |") != std::string::npos);
  CHECK(md.find("| empirical faithfulness | 97.0% |") != std::string::npos);
  CHECK(md.find("| certified max \\|C - N\\| | 0.84 |") != std::string::npos);
  CHECK(md.find("violated at reading=9.9, speed=31") != std::string::npos);
  CHECK(md.find("x = (reading=1, speed=2), x_patch = (reading=3, speed=4)") != std::string::npos);
  CHECK(md.find("| decision flip rate | 3.0% |") != std::string::npos);
  CHECK(md.find("## How to read this") != std::string::npos);
  auto tables = markdownColumnCounts(md);
  REQUIRE(tables.size() == 7); // task, comparison, faithfulness, leak, sweep, regions, timings
  for (const auto& rows : tables) {
    REQUIRE(rows.size() >= 3); // header, delimiter, at least one row
    for (size_t n : rows)
      CHECK(n == rows.front());
  }
  CHECK(tables[1].front() == 4); // the main table: label | module | network | circuit
  CHECK(tables[4].front() == 9); // the sweep
  CHECK(tables[4].size() == 2 + 10);
}

TEST_CASE("report: the HTML page with its plots", "[report]") {
  json doc = exampleReport();
  std::string html = renderHtml(doc);
  { std::ofstream("/tmp/report_example.html") << html; }
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("</html>") != std::string::npos);
  // One <svg> per plot: a region entry, faithfulness and deviation against edges, proof times.
  CHECK(countOf(html, "<svg") == 4);
  CHECK(countOf(html, "</svg>") == 4);
  CHECK(countOf(html, "<table>") == countOf(html, "</table>"));
  CHECK(countOf(html, "<rect class=\"cell\"") == 40 * 30 * 3);
  CHECK(countOf(html, "<path class=\"differ\"") == 2);
  // The outlines go round the disagreeing cells, one segment per outer side: the network's 3 cells
  // in a row have 2*3 + 2 sides, the circuit's 7 have 2*7 + 2.
  size_t p = html.find("<path class=\"differ\"");
  std::string networkPath = html.substr(p, html.find("/>", p) - p);
  p = html.find("<path class=\"differ\"", p + 1);
  std::string circuitPath = html.substr(p, html.find("/>", p) - p);
  CHECK(countOf(networkPath, "M") == 8);
  CHECK(countOf(circuitPath, "M") == 16);
  CHECK(html.find("99.56%") != std::string::npos);
  CHECK(html.find("class=\"v-violated\">violated, 0.8 s") != std::string::npos);
  CHECK(html.find("class=\"v-holds\">holds, 0.11 s") != std::string::npos);
  CHECK(html.find("reading=9.5, speed=5.2") != std::string::npos);
  CHECK(html.find("url(#timeout-hatch)") != std::string::npos);
  CHECK(html.find("(log scale)") != std::string::npos); // deviations span 0.004 .. 10.65
  // Text is escaped; the embedded JSON cannot close its script element and parses back.
  CHECK(html.find("no_brake_when_far &lt;&amp; &quot;quoted&quot;&gt;") != std::string::npos);
  CHECK(html.find("no_brake_when_far <&") == std::string::npos);
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  size_t s = html.find(open);
  REQUIRE(s != std::string::npos);
  size_t e = html.find("</script>", s);
  REQUIRE(e != std::string::npos);
  CHECK(json::parse(html.substr(s + open.size(), e - s - open.size())) == doc);
  CHECK(html.find("<script src") == std::string::npos);
  CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));
  CHECK(renderHtml(doc) == html); // deterministic
}

TEST_CASE("report: a partial comparison shows dashes and leaves plots out", "[report]") {
  json doc = {{"task", "braking"},
              {"inputs", {{{"name", "reading"}, {"lo", 0}, {"hi", 200}}}},
              {"accuracy", {{"module", 1.0}, {"network", 0.9956}, {"circuit", nullptr}}},
              {"properties",
               {{{"name", "brakes_when_close"},
                 {"module", {{"verdict", "holds"}, {"seconds", 0.11}}},
                 {"network", nullptr}}}},
              {"faithfulness", nullptr},
              {"leak", {{"worst_pair", {{"x", {1, 2}}, {"x_patch", {3, 4}}, {"value", 0.5}}}}},
              {"sweep", nullptr},
              {"regions",
               {{{"x", "reading"},
                 {"y", "speed"},
                 {"nx", 2},
                 {"ny", 2},
                 {"module", {0, 1, 1, 0}},
                 {"network", {0, 1, 1}},
                 {"circuit", "bad"}}}}};
  std::string t = renderTable(doc), md = renderMarkdown(doc), html = renderHtml(doc);
  for (const std::string* out : {&t, &md, &html}) {
    CHECK(out->find("99.56%") != std::string::npos);
    CHECK(out->find("holds, 0.11 s") != std::string::npos);
    CHECK(out->find(kDash) != std::string::npos);
  }
  CHECK(md.find("| accuracy | 100.0% | 99.56% | " + kDash + " |") != std::string::npos);
  CHECK(md.find("| brakes_when_close | holds, 0.11 s | " + kDash + " | " + kDash + " |") !=
        std::string::npos);
  CHECK(md.find("| empirical faithfulness | " + kDash + " |") != std::string::npos);
  // Points of another length than the inputs are shown unnamed.
  CHECK(md.find("| worst pair | 0.5 at x = (1, 2), x_patch = (3, 4) |") != std::string::npos);
  for (const auto& rows : markdownColumnCounts(md))
    for (size_t n : rows)
      CHECK(n == rows.front());
  // Plots: the region (the network's grid has the wrong size and the circuit's is not an array,
  // so only the module's cells are drawn) and the proof times; no sweep plots.
  CHECK(countOf(html, "<svg") == 2);
  CHECK(countOf(html, "</svg>") == 2);
  CHECK(countOf(html, "<rect class=\"cell\"") == 4);
  CHECK(countOf(html, "not available") == 2);
  CHECK(html.find("id=\"report-data\"") != std::string::npos);
}

TEST_CASE("report: text from the document cannot break the layout or inject markup", "[report]") {
  std::string longNote;
  for (int i = 0; i < 60; ++i)
    longNote += "word" + std::to_string(i) + " ";
  json doc = {{"task", "t\x1b[31m"},
              {"properties",
               {{{"name", "<script>alert(1)</script>"},
                 {"module", {{"verdict", "holds"}, {"seconds", 1}}}}}},
              {"notes", {"line one\nline two", longNote, std::string(250, 'x')}}};
  std::string t = renderTable(doc);
  CHECK(t.find('\x1b') == std::string::npos);
  CHECK(t.find("line one line two") != std::string::npos);
  CHECK(t.find("word59") != std::string::npos); // wrapped, not cut
  std::istringstream in(t);
  std::string line;
  size_t xs = 0;
  while (std::getline(in, line)) {
    INFO(line);
    CHECK(codePoints(line) <= 100);
    if (line.find_first_not_of(" x") == std::string::npos) // a piece of the 250-x note
      xs += std::count(line.begin(), line.end(), 'x');
  }
  CHECK(xs == 250);
  // A long value (a point in 12 inputs) wraps inside its column instead of being cut.
  json wide = {{"faithfulness", {{"worst_deviation", 0.5}, {"worst_point", json::array()}}},
               {"inputs", json::array()}};
  for (int i = 0; i < 12; ++i) {
    wide["inputs"].push_back({{"name", "input_number_" + std::to_string(i)}});
    wide["faithfulness"]["worst_point"].push_back(1000.25 + i);
  }
  std::string tw = renderTable(wide);
  for (int i = 0; i < 12; ++i)
    CHECK(tw.find("input_number_" + std::to_string(i) + "=" + std::to_string(1000 + i) + ".25") !=
          std::string::npos);
  std::istringstream win(tw);
  while (std::getline(win, line)) {
    INFO(line);
    CHECK(codePoints(line) <= 100);
  }
  std::string md = renderMarkdown(doc);
  CHECK(md.find("| \\<script\\>alert(1)\\</script\\> | holds, 1 s |") != std::string::npos);
  CHECK(md.find("- line one line two") != std::string::npos);
  std::string html = renderHtml(doc);
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("\\u003cscript\\u003e") != std::string::npos); // inside the embedded JSON
}

TEST_CASE("report: documents of the wrong shape render without throwing", "[report]") {
  for (const json& doc : {json(nullptr), json::array({1, 2}), json("text"), json::object(),
                          json{{"properties", 3},
                               {"accuracy", "high"},
                               {"inputs", {1, 2}},
                               {"regions", {{{"nx", -4}, {"ny", 1e9}}}},
                               {"timings", {{"train", "slow"}}},
                               {"sweep", {{{"edges", "x"}}, {{"edges", 3}}}}},
                          json{{"notes", {std::string("bad utf8 \xFF")}}}}) {
    INFO(doc.dump(-1, ' ', false, json::error_handler_t::replace));
    std::string t, md, html;
    REQUIRE_NOTHROW(t = renderTable(doc));
    REQUIRE_NOTHROW(md = renderMarkdown(doc));
    REQUIRE_NOTHROW(html = renderHtml(doc));
    CHECK(t.find(kDash) != std::string::npos);
    CHECK(md.find("| accuracy | " + kDash + " | " + kDash + " | " + kDash + " |") !=
          std::string::npos);
    CHECK(countOf(html, "<svg") == countOf(html, "</svg>"));
    CHECK(html.find("id=\"report-data\"") != std::string::npos);
  }
}
