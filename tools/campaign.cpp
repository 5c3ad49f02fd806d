// VNN-COMP campaigns, on one process or on MPI ranks (tools/campaign.h).
#include "tools/campaign.h"

#include "spec/run_control.h"
#include "tools/command.h"
#include "tools/mpi_jobs.h"
#include "tools/mpi_world.h"
#include "tools/output_file.h"
#include "tools/run_limits.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

namespace chassis::tools {

namespace {

namespace fs = std::filesystem;

struct Instance {
  std::string onnx, vnnlib;         // as written in instances.csv
  std::string onnxPath, vnnlibPath; // relative to the working directory
  double timeout = 0;
};

struct Row {
  std::string onnx, vnnlib, result, seconds;
};

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

/// The comma-separated fields of `line` with the column (1-based) where each starts.
std::vector<std::pair<std::string, int>> fields(const std::string& line) {
  std::vector<std::pair<std::string, int>> out;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    std::string f =
        line.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t lead = f.find_first_not_of(" \t");
    out.push_back({trim(f), int(start + (lead == std::string::npos ? 0 : lead)) + 1});
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void located(const std::string& file, size_t line, int col, const std::string& msg) {
  std::cerr << file << ":" << line << ":" << col << ": error: " << msg << "\n";
}

std::optional<std::vector<Instance>> readInstances(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << path << ": error: cannot read the instances file\n";
    return std::nullopt;
  }
  const fs::path dir = fs::path(path).parent_path();
  std::vector<Instance> out;
  std::map<std::pair<std::string, std::string>, size_t> seen;
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (trim(line).empty()) continue;
    auto f = fields(line);
    if (f.size() != 3) {
      located(path, n, 1,
              "expected 3 fields `onnx,vnnlib,timeout`, got " + std::to_string(f.size()));
      return std::nullopt;
    }
    Instance i;
    i.onnx = f[0].first;
    i.vnnlib = f[1].first;
    const std::string& t = f[2].first;
    char* end = nullptr;
    i.timeout = std::strtod(t.c_str(), &end);
    if (t.empty() || *end != '\0' || !std::isfinite(i.timeout) || i.timeout <= 0) {
      located(path, n, f[2].second, "the timeout '" + t + "' is not a positive number of seconds");
      return std::nullopt;
    }
    for (int k : {0, 1}) {
      const std::string& name = f[size_t(k)].first;
      fs::path p = fs::path(name).is_absolute() ? fs::path(name) : dir / name;
      if (name.empty() || !fs::is_regular_file(p)) {
        located(path, n, f[size_t(k)].second,
                std::string(k == 0 ? "network" : "property") + " '" + name + "' not found (" +
                    p.string() + ")");
        return std::nullopt;
      }
      (k == 0 ? i.onnxPath : i.vnnlibPath) = p.string();
    }
    auto [it, fresh] = seen.emplace(std::make_pair(i.onnx, i.vnnlib), n);
    if (!fresh) {
      located(path, n, 1,
              "the instance is listed twice (also on line " + std::to_string(it->second) + ")");
      return std::nullopt;
    }
    out.push_back(std::move(i));
  }
  if (out.empty()) {
    std::cerr << path << ": error: no instances in the file\n";
    return std::nullopt;
  }
  return out;
}

/// The rows of an earlier run (none when the file does not exist).
std::optional<std::vector<Row>> readResults(const std::string& path) {
  std::vector<Row> out;
  if (!fs::exists(path)) return out;
  std::ifstream in(path);
  if (!in) {
    std::cerr << path << ": error: cannot read the results file\n";
    return std::nullopt;
  }
  std::string line;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (trim(line).empty()) continue;
    auto f = fields(line);
    if (f.size() != 4) {
      located(path, n, 1,
              "expected 4 fields `onnx,vnnlib,result,seconds`, got " + std::to_string(f.size()) +
                  " (is this a results file of `chassis vnnlib --instances`?)");
      return std::nullopt;
    }
    out.push_back({f[0].first, f[1].first, f[2].first, f[3].first});
  }
  return out;
}

/// The campaign's state on the process that writes results.csv.
struct Table {
  const CampaignOptions& o;
  const std::vector<Instance>& instances;
  std::vector<std::optional<Row>> rows; // by instance
  std::vector<Row> foreign;             // rows of instances not in instances.csv, kept
  size_t fresh = 0, total = 0;

  bool write() const {
    std::string text;
    auto add = [&](const Row& r) {
      text += r.onnx + "," + r.vnnlib + "," + r.result + "," + r.seconds + "\n";
    };
    for (const auto& r : rows)
      if (r) add(*r);
    for (const Row& r : foreign)
      add(r);
    return writeFileAtomic(o.results, text);
  }

  /// Records a finished instance; false when results.csv cannot be written.
  bool record(size_t index, int rc, const std::string& resultText, double seconds, int onRank) {
    const Instance& in = instances[index];
    std::string verdict;
    if (rc == kUsage || rc == kInternal) {
      verdict = "error";
    } else {
      verdict = resultText.substr(0, resultText.find('\n'));
      if (verdict.empty()) verdict = "unknown";
    }
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.3f", seconds);
    rows[index] = Row{in.onnx, in.vnnlib, verdict, secs};
    ++fresh;
    std::cout << "[" << fresh << "/" << total << "] " << in.onnx << " " << in.vnnlib << ": "
              << verdict << " (" << secs << " s";
    if (onRank > 0) std::cout << ", rank " << onRank;
    std::cout << ")" << std::endl;
    return write();
  }
};

/// One instance as a job (tools/mpi_jobs.h): its exit code, seconds, whether a stop cut it
/// short, its result text and what it wrote to standard error.
std::string runInstance(const Instance& in, const CampaignOptions& o,
                        const InstanceRunner& runOne) {
  std::string text, out, err;
  int rc = kInternal;
  const double timeout = o.timeout && o.timeout->count() ? o.timeoutValue : in.timeout;
  const auto t0 = std::chrono::steady_clock::now();
  runCaptured([&] { rc = runOne(in.onnxPath, in.vnnlibPath, timeout, text); }, out, err);
  mpi::ByteWriter w;
  w.put<int32_t>(rc);
  w.put<double>(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  w.put<uint8_t>(run::stopRequested() ? 1 : 0);
  w.putString(text);
  w.putString(err);
  return w.text();
}

} // namespace

void addCampaignOptions(CLI::App& app, CampaignOptions& o) {
  o.app = &app;
  app.add_option("--instances", o.instances,
                 "a VNN-COMP campaign: instances.csv (rows onnx,vnnlib,timeout, paths relative "
                 "to its folder) instead of NETWORK PROPERTY; needs --results")
      ->check(CLI::ExistingFile);
  app.add_option("--results", o.results,
                 "the campaign's results.csv (rows onnx,vnnlib,result,seconds), rewritten after "
                 "each row; rows already there are kept and not run again");
  app.add_option("--limit", o.limit, "run at most N of the campaign's remaining instances")
      ->check(CLI::PositiveNumber);
}

int runCampaign(const CampaignOptions& o, const InstanceRunner& runOne) {
  if (o.instances.empty()) {
    std::cerr << "chassis vnnlib: error: give NETWORK PROPERTY (the network and the VNN-LIB "
                 "property file), or a campaign: --instances instances.csv --results "
                 "results.csv\n";
    return kUsage;
  }
  for (const char* single : {"network", "--out", "--emit"})
    if (const CLI::Option* opt = o.app ? o.app->get_option_no_throw(single) : nullptr;
        opt && opt->count()) {
      std::cerr << "chassis vnnlib: error: " << (single[0] == '-' ? single : "NETWORK PROPERTY")
                << " is for one instance; a campaign (--instances) writes results.csv\n";
      return kUsage;
    }
  auto instances = readInstances(o.instances);
  if (!instances) return kUsage;
  if (mpi::rank() != 0) {
    runJobs({}, [&](size_t k) { return runInstance((*instances)[k], o, runOne); }, {});
    return run::stopRequested() ? stopExitCode() : kOk;
  }

  if (o.results.empty()) {
    std::cerr << "chassis vnnlib: error: --instances needs --results FILE (the results.csv)\n";
    return kUsage;
  }
  if (!checkWritable({o.results})) return kUsage;
  auto earlier = readResults(o.results);
  if (!earlier) return kUsage;
  Table table{o, *instances, std::vector<std::optional<Row>>(instances->size()), {}, 0, 0};
  std::map<std::pair<std::string, std::string>, size_t> index;
  for (size_t k = 0; k < instances->size(); ++k)
    index[{(*instances)[k].onnx, (*instances)[k].vnnlib}] = k;
  size_t kept = 0;
  for (Row& r : *earlier) {
    auto it = index.find({r.onnx, r.vnnlib});
    if (it == index.end()) {
      table.foreign.push_back(std::move(r));
    } else if (!table.rows[it->second]) {
      table.rows[it->second] = std::move(r);
      ++kept;
    }
  }
  std::vector<size_t> pending;
  for (size_t k = 0; k < instances->size(); ++k)
    if (!table.rows[k]) pending.push_back(k);
  std::stable_sort(pending.begin(), pending.end(), [&](size_t a, size_t b) {
    return (*instances)[a].timeout > (*instances)[b].timeout;
  });
  if (o.limit > 0 && pending.size() > o.limit) pending.resize(o.limit);
  table.total = pending.size();
  const int n = mpi::worldSize();
  std::cout << "campaign: " << instances->size() << " instances, " << kept << " already in "
            << o.results << ", " << pending.size() << " to run";
  if (n > 1) std::cout << " on " << n - 1 << " worker rank(s)";
  if (!mpi::builtIn()) std::cout << " (one process: this chassis has no MPI built in)";
  std::cout << std::endl;
  auto job = [&](size_t k) { return runInstance((*instances)[k], o, runOne); };
  bool writeFailed = false;
  runJobs(pending, job, [&](size_t k, const std::string& result, int onRank) {
    mpi::ByteReader rd(result);
    const int rc = rd.get<int32_t>();
    const double seconds = rd.get<double>();
    const bool stopped = rd.get<uint8_t>() != 0;
    const std::string text = rd.getString(), err = rd.getString();
    std::cerr << err;
    if (stopped) { // a cut-short instance gets no row
      run::requestStop(run::StopReason::Interrupted);
      return false;
    }
    if (writeFailed) return false;
    writeFailed = !table.record(k, rc, text, seconds, onRank);
    return !writeFailed;
  });
  if (writeFailed) return kUsage;
  if (run::stopRequested()) return stopExitCode();
  if (table.fresh == 0 && !fs::exists(o.results) && !table.write()) return kUsage;
  std::cout << "campaign: " << o.results << " has " << kept + table.fresh << " of "
            << instances->size() << " instances" << std::endl;
  return kOk;
}

} // namespace chassis::tools
