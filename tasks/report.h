// Renderers of the `chassis compare` report: a terminal table, GitHub-flavoured Markdown and one
// self-contained HTML page with inline SVG plots (no scripts run, nothing fetched).
//
// The comparison itself (accuracy, property verdicts, faithfulness, leak, sweep, decision regions)
// is computed elsewhere and handed over as a JSON document; these functions only present it.
// Every field may be missing or null (a step that was not run): its cell shows "—" and its plot is
// left out, and a field of the wrong type counts as missing, so no document makes them throw.
//
// Units and formats: accuracy, faithfulness, completeness, agreement and flip rates are fractions
// in [0, 1] shown as percentages with 1-2 decimals (0.9956 -> "99.56%", 0.97 -> "97.0%");
// deviations (|C(x) - N(x)| between circuit and network outputs, leak values) with 3 significant
// digits (%.3g); times in seconds ("0.11 s"). Points are shown as name=value with the input names
// of the report's "inputs" when their count matches.
//
// The HTML page holds: the task summary (inputs, label, artefact sizes), the main table (rows:
// accuracy, each property's verdict and proof time, size; columns module | network | circuit),
// the faithfulness and leak blocks, and the plots:
//   - decision regions: for each entry of "regions", three heat maps (module, network, circuit) of
//     the decision on an nx x ny grid (row-major, y outer, y grows upwards), one <rect
//     class="cell"> per cell coloured by class index, the cells where network or circuit differ
//     from the module outlined;
//   - faithfulness and completeness against circuit size (edges), one line per method/ablation of
//     "sweep"; and the certified max deviation against edges (log y when values span > 2 decades);
//   - proof time per property and artefact, grouped horizontal bars (log x when times spread over
//     more than 100x), timeouts hatched.
// The report's JSON is embedded as <script type="application/json" id="report-data"> (with <, >, &
// written as \u escapes so the text cannot close the element). All text is HTML-escaped. The output
// is a function of the document alone: the same JSON gives the same bytes.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace chassis::tasks {

// A compact plain-text report (fixed-width columns, no colour), at most 100 columns wide.
std::string renderTable(const nlohmann::json& report);

// The same tables as GitHub-flavoured Markdown, with a short "how to read this" paragraph.
std::string renderMarkdown(const nlohmann::json& report);

// One self-contained HTML page with inline SVG plots and the report's JSON embedded.
std::string renderHtml(const nlohmann::json& report);

/// `s` with &, <, >, " and ' written as HTML entities: safe in element text and in quoted
/// attributes of the HTML and SVG this report and `chassis infer --plot` write.
std::string htmlEscape(const std::string& s);

} // namespace chassis::tasks
