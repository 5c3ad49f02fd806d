// `chassis verify --all FILE...` (tools/verify_all.h).
#include "tools/verify_all.h"

#include "spec/run_control.h"
#include "tools/command.h"
#include "tools/mpi_jobs.h"
#include "tools/mpi_world.h"
#include "tools/run_limits.h"

#include "tools/json_report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>

namespace chassis::tools {

namespace {

struct FileResult {
  int rc = kOk;
  std::string json, err; // verify's JSON output and its standard error
};

std::string fmtG(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

/// The table's verdict words of one JSON result (as `chassis verify` prints them).
std::string verdictText(const nlohmann::ordered_json& r) {
  std::string v = r.value("verdict", "");
  const std::string reason = r.value("reason", "");
  if (r.contains("statistical")) {
    const auto& s = r["statistical"];
    return s.value("decision", "") + " " + fmtG(s.value("estimate", 0.0)) + " in [" +
           fmtG(s["interval"][0].get<double>()) + ", " + fmtG(s["interval"][1].get<double>()) +
           "] at " + fmtG(100 * s.value("confidence", 0.0)) + "%, " +
           std::to_string(s.value("samples", size_t(0))) + " samples";
  }
  if (r.contains("interval")) {
    return "certified [" + fmtG(r["interval"][0].get<double>()) + ", " +
           fmtG(r["interval"][1].get<double>()) + "] " +
           (v == "holds"      ? "decides: holds"
            : v == "violated" ? "decides: violated"
                              : "does not decide");
  }
  if ((v == "unknown" || v == "internal error") && !reason.empty()) v += " (" + reason + ")";
  return v;
}

/// The table's last column of one JSON result (as `chassis verify` prints it).
std::string counterexampleText(const nlohmann::ordered_json& r) {
  const std::string verdict = r.value("verdict", ""), reason = r.value("reason", "");
  const std::string at = r.value("value_at_counterexample", "");
  const bool interval = r.contains("interval"), statistical = r.contains("statistical");
  std::string cx;
  cx = r.value("counterexample_text", "");
  if (!cx.empty())
    cx += "  (value there in float64: " + at + ")";
  else if (verdict == "violated" && !at.empty())
    cx = "(value in float64: " + at + ")";
  if (interval && !r.value("method", "").empty()) cx = r.value("method", "");
  if (statistical) {
    const auto& s = r["statistical"];
    cx = (interval ? "certified [" + fmtG(r["interval"][0].get<double>()) + ", " +
                         fmtG(r["interval"][1].get<double>()) + "] undecided; "
                   : std::string()) +
         (reason.empty() ? "" : reason + "; ") + std::to_string(s.value("hits", size_t(0))) +
         " hits, " + std::to_string(s.value("rejected", size_t(0))) + " rejected, seed " +
         std::to_string(s.value("seed", uint64_t(0)));
  }
  if (verdict == "violated" && !interval && !statistical && !reason.empty())
    cx += "  [" + reason + "]"; // a floating-point note, or Z3's undefined point
  return cx;
}

int combinedExit(const std::vector<std::optional<FileResult>>& results) {
  bool internal = false, usage = false, violated = false, unknown = false;
  for (const auto& r : results) {
    if (!r) continue;
    internal |= r->rc == kInternal;
    usage |= r->rc == kUsage;
    violated |= r->rc == kFailure;
    unknown |= r->rc == kUnknown;
  }
  return internal ? kInternal : usage ? kUsage : violated ? kFailure : unknown ? kUnknown : kOk;
}

} // namespace

void addVerifyAllOptions(CLI::App& app, VerifyAllOptions& o) {
  app.add_flag("--all", o.all,
               "verify every FILE given (chassis verify --all a.chs b.chs ...), one table; "
               "under mpirun the files are spread over the ranks");
  app.add_option("more", o.more, "with --all: the other .chs files");
}

std::optional<int> verifyAll(const std::string& first, const VerifyAllOptions& o, bool json,
                             const VerifyFileRunner& runOne) {
  if (!o.all && o.more.empty()) return std::nullopt;
  if (!o.all) {
    std::cerr << "chassis verify: error: several files (" << first << ", " << o.more[0]
              << ", ...) need --all\n";
    return kUsage;
  }
  std::vector<std::string> files{first};
  files.insert(files.end(), o.more.begin(), o.more.end());
  auto job = [&](size_t k) {
    FileResult r;
    runCaptured([&] { r.rc = runOne(files[k]); }, r.json, r.err);
    mpi::ByteWriter w;
    w.put<int32_t>(r.rc);
    w.put<uint8_t>(run::stopRequested() ? 1 : 0);
    w.putString(r.json);
    w.putString(r.err);
    return w.text();
  };
  std::vector<size_t> order(files.size());
  for (size_t k = 0; k < order.size(); ++k)
    order[k] = k;
  if (mpi::rank() != 0) {
    runJobs({}, job, {});
    return run::stopRequested() ? stopExitCode() : kOk;
  }
  std::vector<std::optional<FileResult>> results(files.size());
  runJobs(order, job, [&](size_t k, const std::string& text, int) {
    mpi::ByteReader rd(text);
    FileResult r;
    r.rc = rd.get<int32_t>();
    const bool stopped = rd.get<uint8_t>() != 0;
    r.json = rd.getString();
    r.err = rd.getString();
    std::cerr << r.err;
    if (stopped) run::requestStop(run::StopReason::Interrupted);
    results[k] = std::move(r);
    return !stopped;
  });

  // One table (or one JSON array) in the files' order.
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  int width = 4; // the file column
  for (const std::string& f : files)
    width = std::max(width, int(f.size()));
  if (!json)
    std::printf("%-*s %-26s %-60s %9s  %s\n", width, "file", "property", "verdict", "time",
                "counterexample");
  for (size_t k = 0; k < files.size(); ++k) {
    const auto& r = results[k];
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    if (r && !r->json.empty()) {
      try {
        // verify --json prints the report envelope (json_report.h): its results are the rows.
        auto report = nlohmann::ordered_json::parse(r->json);
        if (report.is_object() && report.contains("results")) rows = report["results"];
      } catch (const nlohmann::ordered_json::exception& e) {
        std::cerr << files[k] << ": error: internal: verify's JSON: " << e.what() << "\n";
        return kInternal;
      }
    }
    if (json) {
      nlohmann::ordered_json f;
      f["file"] = files[k];
      if (r)
        f["exit"] = r->rc;
      else
        f["exit"] = nullptr; // not run: the run was stopped first
      f["results"] = rows;
      all.push_back(f);
      continue;
    }
    if (!r || rows.empty()) {
      const std::string what = !r             ? std::string(run::stopReasonName(run::stopReason()))
                               : r->rc == kOk ? "nothing to verify"
                                              : "error (exit " + std::to_string(r->rc) + ")";
      std::printf("%-*s %-26s %-60s %9s\n", width, files[k].c_str(), "-", what.c_str(), "");
      continue;
    }
    for (const auto& row : rows) {
      const std::string cx = counterexampleText(row);
      std::printf("%-*s %-26s %-60s %8.3fs  %s\n", width, files[k].c_str(),
                  row.value("property", "").c_str(), verdictText(row).c_str(),
                  row.value("seconds", 0.0), cx.c_str());
    }
  }
  if (json) {
    nlohmann::ordered_json options, summary;
    options["all"] = true;
    options["files"] = files;
    summary["files"] = files.size();
    summary["exit_code"] = run::stopRequested() ? stopExitCode() : combinedExit(results);
    std::cout << jsonText(jsonEnvelope("verify", first, options, all, summary)) << "\n";
  }
  std::fflush(stdout);
  if (run::stopRequested()) return stopExitCode();
  return combinedExit(results);
}

} // namespace chassis::tools
