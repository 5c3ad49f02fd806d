// CSV datasets (reading with located errors, writing with round-trip digits) and the
// deterministic shuffling used to split and batch them.
#include "neural/dataset.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace chassis::neural {

namespace {

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

struct Cell {
  std::string text; // trimmed
  int col;          // 1-based column of the cell's first non-blank character (or of its comma)
};

std::vector<Cell> splitRow(const std::string& line) {
  std::vector<Cell> out;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    std::string raw =
        line.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t lead = raw.find_first_not_of(" \t\r");
    int col = static_cast<int>(start + (lead == std::string::npos ? 0 : lead)) + 1;
    out.push_back({trim(raw), col});
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<std::string> splitNames(const std::string& s) {
  std::vector<std::string> out;
  for (const Cell& c : splitRow(s))
    out.push_back(c.text);
  return out;
}

std::string num17(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

} // namespace

Dataset Dataset::subset(const std::vector<int>& rows) const {
  Dataset d;
  d.featureNames = featureNames;
  d.labelName = labelName;
  d.labelNames = labelNames;
  d.classNames = classNames;
  d.X.resize(static_cast<Eigen::Index>(rows.size()), X.cols());
  d.y.resize(static_cast<Eigen::Index>(rows.size()));
  d.Y.resize(Y.cols() > 0 ? static_cast<Eigen::Index>(rows.size()) : 0, Y.cols());
  for (size_t i = 0; i < rows.size(); ++i) {
    d.X.row(i) = X.row(rows[i]);
    d.y[i] = y[rows[i]];
    if (Y.cols() > 0) d.Y.row(i) = Y.row(rows[i]);
    if (!lines.empty()) d.lines.push_back(lines[rows[i]]);
    if (!labelCols.empty()) d.labelCols.push_back(labelCols[rows[i]]);
  }
  return d;
}

Expected<Dataset> parseCsv(const std::string& text, const std::string& displayName,
                           const std::string& labelColumn) {
  std::istringstream in(text);
  std::string line;
  int ln = 0;
  std::vector<Cell> header;
  while (std::getline(in, line)) {
    ++ln;
    if (!trim(line).empty()) {
      header = splitRow(line);
      break;
    }
  }
  if (header.empty()) return Error(SourceLoc{displayName, 1, 1}, "empty CSV file (no header)");
  const std::vector<std::string> wanted = splitNames(labelColumn);
  for (const std::string& w : wanted)
    if (w.empty()) return Error("the label column name is empty");
  // labelIdx[i]: which label column header field i is (-1: a feature)
  std::vector<int> labelIdx(header.size(), -1);
  Dataset d;
  d.labelName = labelColumn;
  for (size_t k = 0; k < wanted.size(); ++k) {
    int found = -1;
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i].text != wanted[k]) continue;
      if (found >= 0)
        return Error(SourceLoc{displayName, ln, header[i].col},
                     "label column '" + wanted[k] + "' appears twice in the header");
      found = static_cast<int>(i);
    }
    if (found < 0)
      return Error(SourceLoc{displayName, ln, 1},
                   "no column named '" + wanted[k] + "' in the header");
    if (labelIdx[found] >= 0)
      return Error("label column '" + wanted[k] + "' is named twice in the label option");
    labelIdx[found] = static_cast<int>(k);
  }
  for (size_t i = 0; i < header.size(); ++i)
    if (labelIdx[i] < 0) d.featureNames.push_back(header[i].text);
  if (wanted.size() > 1) d.labelNames = wanted;
  if (d.featureNames.empty())
    return Error(SourceLoc{displayName, ln, 1}, "no feature columns besides the label");
  const size_t cols = header.size(), k = wanted.size();
  std::vector<double> feats, labels;
  while (std::getline(in, line)) {
    ++ln;
    if (trim(line).empty()) continue;
    auto cells = splitRow(line);
    if (cells.size() != cols) {
      // Point at the first extra field, or at the end of a short row.
      const int col = cells.size() > cols
                          ? cells[cols].col
                          : static_cast<int>(trim(line).size() + line.find_first_not_of(" \t")) + 1;
      return Error(SourceLoc{displayName, ln, col}, "expected " + std::to_string(cols) +
                                                        " fields, got " +
                                                        std::to_string(cells.size()));
    }
    std::vector<double> row(k);
    for (size_t i = 0; i < cols; ++i) {
      if (labelIdx[i] == 0) d.labelCols.push_back(cells[i].col);
      const char* b = cells[i].text.c_str();
      char* e = nullptr;
      errno = 0;
      double v = std::strtod(b, &e);
      if (cells[i].text.empty() || *e != '\0' || errno == ERANGE || !std::isfinite(v))
        return Error(SourceLoc{displayName, ln, cells[i].col},
                     "bad number '" + cells[i].text + "' in column '" + header[i].text + "'");
      if (labelIdx[i] < 0)
        feats.push_back(v);
      else
        row[labelIdx[i]] = v;
    }
    labels.insert(labels.end(), row.begin(), row.end());
    d.lines.push_back(ln);
  }
  if (labels.empty()) return Error(SourceLoc{displayName, ln, 1}, "no data rows");
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Index n = static_cast<Eigen::Index>(d.lines.size());
  const Eigen::Index p = static_cast<Eigen::Index>(d.featureNames.size());
  d.X = Eigen::Map<RowMajor>(feats.data(), n, p);
  if (k == 1) {
    d.y = Eigen::Map<Eigen::VectorXd>(labels.data(), n);
  } else {
    d.Y = Eigen::Map<RowMajor>(labels.data(), n, static_cast<Eigen::Index>(k));
    d.y = d.Y.col(0);
  }
  return d;
}

Expected<Dataset> loadCsv(const std::string& path, const std::string& labelColumn) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error(SourceLoc{path, 0, 0}, "cannot open file");
  std::ostringstream ss;
  ss << f.rdbuf();
  return parseCsv(ss.str(), path, labelColumn);
}

std::string toCsv(const Dataset& d) {
  std::string out;
  const std::vector<std::string> labels =
      d.Y.cols() > 0 ? d.labelNames : std::vector<std::string>{d.labelName};
  bool first = true;
  for (const std::vector<std::string>* names : {&d.featureNames, &labels})
    for (const std::string& n : *names) {
      out += (first ? "" : ",") + n;
      first = false;
    }
  out += "\n";
  for (int i = 0; i < d.size(); ++i) {
    for (int j = 0; j < d.numFeatures(); ++j)
      out += (j ? "," : "") + num17(d.X(i, j));
    if (d.Y.cols() > 0)
      for (Eigen::Index j = 0; j < d.Y.cols(); ++j)
        out += "," + num17(d.Y(i, j));
    else
      out += "," + num17(d.y[i]);
    out += "\n";
  }
  return out;
}

Status saveCsv(const Dataset& d, const std::string& path) {
  std::ofstream f(path, std::ios::binary);
  if (!f) return Error(SourceLoc{path, 0, 0}, "cannot write file");
  f << toCsv(d);
  f.close();
  if (!f) return Error(SourceLoc{path, 0, 0}, "error while writing file");
  return Status::ok();
}

uint64_t uniformIndex(Rng& rng, uint64_t n) {
  // Accept draws below the largest multiple of n, so every residue is equally likely.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t r;
  do
    r = rng.nextU64();
  while (r >= limit);
  return r % n;
}

std::vector<int> permutation(Rng& rng, int n) {
  std::vector<int> p(n);
  for (int i = 0; i < n; ++i)
    p[i] = i;
  for (int i = n - 1; i > 0; --i)
    std::swap(p[i], p[uniformIndex(rng, uint64_t(i) + 1)]);
  return p;
}

std::pair<Dataset, Dataset> trainTestSplit(const Dataset& d, double testFraction, Rng& rng,
                                           std::vector<int>* testRows) {
  std::vector<int> p = permutation(rng, d.size());
  int nTest = static_cast<int>(std::lround(d.size() * testFraction));
  nTest = std::clamp(nTest, 0, d.size());
  std::vector<int> test(p.begin(), p.begin() + nTest), train(p.begin() + nTest, p.end());
  if (testRows) *testRows = test;
  return {d.subset(train), d.subset(test)};
}

} // namespace chassis::neural
