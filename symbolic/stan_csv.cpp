// Stan CSV writer and reader (the layout is described in stan_csv.h).
#include "symbolic/stan_csv.h"

#include "symbolic/summary.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace chassis::symbolic {

namespace {

/// %.17g: the shortest printf format that gives every double back exactly.
std::string exact(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t'))
    ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
    --e;
  return std::string(s.substr(b, e - b));
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// A number as CmdStan writes them (decimal or exponent form, nan, inf); false otherwise.
bool parseNumber(std::string_view text, double& out) {
  std::string t = trim(text);
  std::string_view v = t;
  if (!v.empty() && v[0] == '+') v.remove_prefix(1);
  if (v.empty()) return false;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec == std::errc::result_out_of_range) {
    // Beyond the double range: as strtod would, to +-inf or 0 (CmdStan never writes these).
    out = std::strtod(std::string(v).c_str(), nullptr);
    return ptr == v.data() + v.size();
  }
  return ec == std::errc() && ptr == v.data() + v.size();
}

/// One comma-separated field of a line: its text and the 1-based column where it starts.
struct Field {
  std::string_view text;
  int col;
  /// The column of its first non-blank character (where an error about it points).
  int valueCol() const {
    size_t k = text.find_first_not_of(" \t");
    return col + int(k == std::string_view::npos ? 0 : k);
  }
};

std::vector<Field> splitFields(std::string_view line) {
  std::vector<Field> out;
  size_t start = 0;
  for (;;) {
    size_t comma = line.find(',', start);
    size_t end = comma == std::string_view::npos ? line.size() : comma;
    out.push_back({line.substr(start, end - start), int(start) + 1});
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

} // namespace

int StanCsvChain::column(std::string_view name) const {
  for (size_t k = 0; k < columns.size(); ++k)
    if (columns[k] == name) return int(k);
  return -1;
}

std::string stanColumnName(const std::string& name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '[') {
      size_t close = name.find(']', i);
      std::string idx = close == std::string::npos ? "" : name.substr(i + 1, close - i - 1);
      bool digits = !idx.empty() && idx.find_first_not_of("0123456789") == std::string::npos;
      if (digits && idx.size() < 10) {
        out += "." + std::to_string(std::stoul(idx) + 1);
        i = close;
        continue;
      }
    }
    out += name[i];
  }
  return out;
}

std::string chassisName(const std::string& column) {
  // Split off the trailing run of ".<positive integer>" suffixes.
  size_t end = column.size();
  std::vector<std::string> idx;
  for (;;) {
    size_t dot = column.rfind('.', end == 0 ? 0 : end - 1);
    if (dot == std::string::npos || dot == 0) break;
    std::string part = column.substr(dot + 1, end - dot - 1);
    bool positive = !part.empty() && part.size() < 10 &&
                    part.find_first_not_of("0123456789") == std::string::npos &&
                    std::stoul(part) >= 1;
    if (!positive) break;
    idx.insert(idx.begin(), part);
    end = dot;
  }
  if (idx.empty()) return column;
  std::string out = column.substr(0, end);
  for (const std::string& i : idx)
    out += "[" + std::to_string(std::stoul(i) - 1) + "]";
  return out;
}

std::vector<StanCsvChain> stanCsvChainsOf(const Posterior& p, const NutsResult& run) {
  std::vector<StanCsvChain> out;
  for (size_t c = 0; c < run.chains.size(); ++c) {
    const NutsChainResult& r = run.chains[c];
    StanCsvChain chain;
    for (const char* col : kStanSamplerColumns)
      chain.columns.push_back(col);
    for (const Quantity& q : p.quantities)
      chain.columns.push_back(stanColumnName(q.name));
    for (size_t i = 0; i < r.drawStats.size(); ++i) {
      const NutsDrawStats& st = r.drawStats[i];
      std::vector<double> row = {st.logDensity,
                                 st.acceptStat,
                                 st.stepSize,
                                 double(st.treeDepth),
                                 double(st.leapfrogs),
                                 st.divergent ? 1.0 : 0.0,
                                 st.energy};
      for (size_t q = 0; q < p.quantities.size(); ++q)
        row.push_back(c < p.draws[q].size() && i < p.draws[q][c].size() ? p.draws[q][c][i]
                                                                        : std::nan(""));
      chain.rows.push_back(std::move(row));
    }
    chain.stepSize = r.stepSize;
    chain.invMetric = r.invMetric;
    chain.invMetricDense = r.invMetricDense;
    chain.warmupSeconds = r.warmupSeconds;
    chain.samplingSeconds = r.samplingSeconds;
    out.push_back(std::move(chain));
  }
  return out;
}

void writeStanCsv(std::ostream& os, const StanCsvSettings& s, const StanCsvChain& chain) {
  auto def = [](bool isDefault) { return isDefault ? " (Default)" : ""; };
  char delta[64], initText[64];
  std::snprintf(delta, sizeof delta, "%g", s.adaptDelta);
  std::snprintf(initText, sizeof initText, "%g", s.init);
  os << "# model = " << s.model << "\n"
     << "# method = sample (Default)\n"
     << "#   sample\n"
     << "#     num_samples = " << s.numSamples << def(s.numSamples == 1000) << "\n"
     << "#     num_warmup = " << s.numWarmup << def(s.numWarmup == 1000) << "\n"
     << "#     save_warmup = 0 (Default)\n"
     << "#     thin = " << s.thin << def(s.thin == 1) << "\n"
     << "#     adapt\n"
     << "#       engaged = " << (s.numWarmup > 0 ? 1 : 0) << def(s.numWarmup > 0) << "\n"
     << "#       gamma = 0.05 (Default)\n"
     << "#       delta = " << delta << def(s.adaptDelta == 0.8) << "\n"
     << "#       kappa = 0.75 (Default)\n"
     << "#       t0 = 10 (Default)\n"
     << "#       init_buffer = 75 (Default)\n"
     << "#       term_buffer = 50 (Default)\n"
     << "#       window = 25 (Default)\n"
     << "#     algorithm = hmc (Default)\n"
     << "#       hmc\n"
     << "#         engine = nuts (Default)\n"
     << "#           nuts\n"
     << "#             max_depth = " << s.maxDepth << def(s.maxDepth == 10) << "\n"
     << "#         metric = " << (s.denseMetric ? "dense_e" : "diag_e (Default)") << "\n"
     << "#         stepsize = 1 (Default)\n"
     << "#         stepsize_jitter = 0 (Default)\n"
     << "#     num_chains = " << s.numChains << def(s.numChains == 1) << "\n"
     << "# id = " << s.chainId << def(s.chainId == 1) << "\n"
     << "# data\n"
     << "#   file = " << s.dataFile << def(s.dataFile.empty()) << "\n"
     << "# init = " << initText << def(s.init == 2) << "\n"
     << "# random\n"
     << "#   seed = " << s.seed << "\n"
     << "# output\n"
     << "#   file = " << s.outputFile << "\n"
     << "#   sig_figs = 17\n"
     << "# chassis_model_file = " << s.modelFile << "\n";
  for (size_t k = 0; k < chain.columns.size(); ++k)
    os << (k ? "," : "") << chain.columns[k];
  os << "\n";
  os << "# Adaptation terminated\n"
     << "# Step size = " << exact(chain.stepSize) << "\n";
  if (!chain.invMetricDense.empty()) {
    // CmdStan's dense_e layout: one row of M^{-1} per comment line.
    os << "# Elements of inverse mass matrix:\n";
    const size_t d = chain.invMetric.size();
    for (size_t r = 0; r < d; ++r) {
      os << "# ";
      for (size_t k = 0; k < d; ++k) os << (k ? ", " : "") << exact(chain.invMetricDense[r * d + k]);
      os << "\n";
    }
  } else {
    os << "# Diagonal elements of inverse mass matrix:\n"
       << "# ";
    for (size_t k = 0; k < chain.invMetric.size(); ++k)
      os << (k ? ", " : "") << exact(chain.invMetric[k]);
    os << "\n";
  }
  std::string line;
  for (const std::vector<double>& row : chain.rows) {
    line.clear();
    for (size_t k = 0; k < row.size(); ++k) {
      if (k) line += ',';
      line += exact(row[k]);
    }
    os << line << "\n";
  }
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "# \n#  Elapsed Time: %.6g seconds (Warm-up)\n#                %.6g seconds "
                "(Sampling)\n#                %.6g seconds (Total)\n# \n",
                chain.warmupSeconds, chain.samplingSeconds,
                chain.warmupSeconds + chain.samplingSeconds);
  os << buf;
}

Expected<StanCsvChain> readStanCsv(std::istream& in, const std::string& file) {
  StanCsvChain c;
  c.file = file;
  auto at = [&](int line, int col, std::string msg) {
    return Error(SourceLoc{file, line, col}, std::move(msg));
  };
  bool haveHeader = false, expectMetric = false, expectSampling = false;
  // A dense metric: its rows so far and the dimension (the first row's length).
  bool expectDense = false;
  size_t denseRows = 0, denseDim = 0;
  std::string raw;
  int lineNo = 0;
  while (std::getline(in, raw)) {
    ++lineNo;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    std::string_view line = raw;
    if (trim(line).empty()) continue;
    if (line[0] == '#') {
      std::string body = trim(line.substr(1));
      if (expectMetric) {
        expectMetric = false;
        const size_t start = line.find_first_not_of("# \t");
        if (start == std::string_view::npos) continue; // no continuous parameters
        const int offset = int(start);
        for (const Field& f : splitFields(line.substr(size_t(offset)))) {
          double v;
          if (!parseNumber(f.text, v))
            return at(lineNo, offset + f.valueCol(),
                      "'" + trim(f.text) + "' in the inverse mass matrix is not a number");
          c.invMetric.push_back(v);
        }
        continue;
      }
      if (expectDense) {
        const size_t start = line.find_first_not_of("# \t");
        if (start == std::string_view::npos) { // no continuous parameters
          expectDense = false;
          continue;
        }
        const int offset = int(start);
        std::vector<double> row;
        for (const Field& f : splitFields(line.substr(size_t(offset)))) {
          double v;
          if (!parseNumber(f.text, v))
            return at(lineNo, offset + f.valueCol(),
                      "'" + trim(f.text) + "' in the inverse mass matrix is not a number");
          row.push_back(v);
        }
        if (row.empty())
          return at(lineNo, offset + 1, "a row of the inverse mass matrix has no elements");
        if (denseRows == 0) denseDim = row.size();
        if (row.size() != denseDim || denseRows >= denseDim)
          return at(lineNo, offset + 1,
                    "a row of the inverse mass matrix has " + std::to_string(row.size()) +
                        " elements, expected " + std::to_string(denseDim));
        c.invMetric.push_back(row[denseRows]);
        c.invMetricDense.insert(c.invMetricDense.end(), row.begin(), row.end());
        if (++denseRows == denseDim) expectDense = false;
        continue;
      }
      if (body.rfind("Elements of inverse mass matrix", 0) == 0) {
        // A second matrix block replaces the first (its rows are counted afresh).
        expectDense = true;
        denseRows = denseDim = 0;
        c.invMetric.clear();
        c.invMetricDense.clear();
        continue;
      }
      if (body == "Adaptation terminated") {
        c.adapted = true;
        continue;
      }
      if (body.rfind("Diagonal elements of inverse mass matrix", 0) == 0) {
        expectMetric = true;
        continue;
      }
      if (body.rfind("Step size =", 0) == 0) {
        if (!parseNumber(std::string_view(body).substr(11), c.stepSize))
          return at(lineNo, int(line.find_first_not_of(" \t", line.find('=') + 1)) + 1,
                    "the step size is not a number");
        continue;
      }
      if (size_t e = body.find("Elapsed Time:"); e != std::string::npos) {
        double v;
        std::string rest = trim(std::string_view(body).substr(e + 13));
        if (parseNumber(rest.substr(0, rest.find(' ')), v)) c.warmupSeconds = v;
        expectSampling = true;
        continue;
      }
      if (expectSampling) {
        expectSampling = false;
        double v;
        if (body.find("(Sampling)") != std::string::npos &&
            parseNumber(body.substr(0, body.find(' ')), v))
          c.samplingSeconds = v;
        continue;
      }
      if (!haveHeader) {
        size_t eq = body.find('=');
        if (eq != std::string::npos) {
          std::string key = trim(std::string_view(body).substr(0, eq));
          std::string value = trim(std::string_view(body).substr(eq + 1));
          if (endsWith(value, "(Default)")) value = trim(value.substr(0, value.size() - 9));
          c.config.emplace(key, value);
        }
      }
      continue;
    }
    std::vector<Field> fields = splitFields(line);
    if (!haveHeader) {
      std::set<std::string> seen;
      for (const Field& f : fields) {
        std::string name = trim(f.text);
        if (name.empty()) return at(lineNo, f.col, "empty column name in the header");
        if (!seen.insert(name).second)
          return at(lineNo, f.valueCol(), "column '" + name + "' appears twice in the header");
        c.columns.push_back(name);
      }
      if (c.column("lp__") < 0)
        return at(lineNo, 1,
                  "the header has no lp__ column: not a Stan CSV file (expected lp__, "
                  "accept_stat__, ... and the parameters)");
      haveHeader = true;
      continue;
    }
    if (fields.size() != c.columns.size()) {
      int col =
          fields.size() > c.columns.size() ? fields[c.columns.size()].col : int(line.size()) + 1;
      return at(lineNo, col,
                "this row has " + std::to_string(fields.size()) + " values, the header has " +
                    std::to_string(c.columns.size()) + " columns");
    }
    std::vector<double> row(fields.size());
    for (size_t k = 0; k < fields.size(); ++k)
      if (!parseNumber(fields[k].text, row[k]))
        return at(lineNo, fields[k].valueCol(),
                  "'" + trim(fields[k].text) + "' (column " + c.columns[k] + ") is not a number");
    (c.adapted ? c.rows : c.warmupRows).push_back(std::move(row));
  }
  if (in.bad()) return at(0, 0, "cannot read the file");
  if (!haveHeader)
    return at(lineNo > 0 ? lineNo : 0, 0,
              "no column header (a line starting lp__,...): not a Stan CSV file");
  if (expectMetric) return at(lineNo, 0, "the file ends before the inverse mass matrix's elements");
  if (expectDense)
    return at(lineNo, 0, "the file ends before the last row of the inverse mass matrix");
  // Without an adaptation block (fixed_param, or no warm-up) every row is a draw.
  if (!c.adapted) {
    c.rows = std::move(c.warmupRows);
    c.warmupRows.clear();
  }
  return c;
}

Expected<StanCsvChain> readStanCsvFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(SourceLoc{path, 0, 0}, "cannot open the file");
  return readStanCsv(in, path);
}

Expected<Posterior> posteriorFromStanCsv(std::span<const StanCsvChain> chains) {
  if (chains.empty()) return Error("no Stan CSV files to summarise");
  const StanCsvChain& first = chains[0];
  for (const StanCsvChain& c : chains) {
    if (c.columns != first.columns)
      return Error(SourceLoc{c.file, 0, 0},
                   "its columns differ from those of " + first.file + ": not the same model");
    if (c.rows.size() != first.rows.size())
      return Error(SourceLoc{c.file, 0, 0},
                   "it has " + std::to_string(c.rows.size()) + " draws, " + first.file + " has " +
                       std::to_string(first.rows.size()) + ": chains must be equally long");
    if (c.rows.empty()) return Error(SourceLoc{c.file, 0, 0}, "it has no draws");
  }
  Posterior p;
  p.method = InferMethod::NUTS;
  auto method = first.config.find("method");
  if (method != first.config.end() && method->second != "sample")
    return Error(SourceLoc{first.file, 0, 0},
                 "method = " + method->second +
                     ": only sampler output (method = sample) has draws");
  p.chains = chains.size();
  p.samplesPerChain = first.rows.size();
  for (size_t k = 0; k < first.columns.size(); ++k) {
    if (endsWith(first.columns[k], "__")) continue;
    Quantity q;
    q.name = chassisName(first.columns[k]);
    q.address = q.name;
    q.type = ir::Type::real();
    p.quantities.push_back(q);
    std::vector<std::vector<double>> draws;
    for (const StanCsvChain& c : chains) {
      std::vector<double> d;
      d.reserve(c.rows.size());
      for (const std::vector<double>& row : c.rows)
        d.push_back(row[k]);
      draws.push_back(std::move(d));
    }
    p.draws.push_back(std::move(draws));
  }
  const int divergent = first.column("divergent__"), accept = first.column("accept_stat__");
  if (accept >= 0) {
    double acc = 0;
    for (const StanCsvChain& c : chains) {
      double sum = 0;
      for (const std::vector<double>& row : c.rows)
        sum += row[size_t(accept)];
      acc += sum / double(c.rows.size());
    }
    p.acceptRate = acc / double(chains.size());
  }
  if (divergent >= 0)
    for (const StanCsvChain& c : chains)
      for (const std::vector<double>& row : c.rows)
        p.divergences += row[size_t(divergent)] != 0 ? 1 : 0;
  // The sampler's state per chain, from its kept draws' columns (as chassis infer prints it).
  const int depth = first.column("treedepth__"), leapfrog = first.column("n_leapfrog__");
  auto maxDepth = first.config.find("max_depth");
  if (depth >= 0 && leapfrog >= 0 && accept >= 0 && divergent >= 0 &&
      maxDepth != first.config.end()) {
    char* end = nullptr;
    const long md = std::strtol(maxDepth->second.c_str(), &end, 10);
    if (end && *end == '\0' && md > 0) {
      p.maxTreeDepth = int(md);
      for (const StanCsvChain& c : chains) {
        Posterior::SamplerChain sc;
        sc.stepSize = c.stepSize;
        double d = 0, a = 0;
        for (const std::vector<double>& row : c.rows) {
          d += row[size_t(depth)];
          a += row[size_t(accept)];
          sc.divergences += row[size_t(divergent)] != 0 ? 1 : 0;
          sc.maxDepthHits += row[size_t(depth)] >= double(md) ? 1 : 0;
          sc.leapfrogs += size_t(row[size_t(leapfrog)]);
        }
        sc.meanTreeDepth = d / double(c.rows.size());
        sc.meanAcceptStat = a / double(c.rows.size());
        p.sampler.push_back(sc);
      }
    }
  }
  if (Status s = summarizePosterior(p); !s) return s.error();
  return p;
}

} // namespace chassis::symbolic
