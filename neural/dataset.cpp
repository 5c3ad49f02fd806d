// CSV datasets and the deterministic shuffling used to split and batch them.
#include "neural/dataset.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace chassis::neural {

namespace {

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

std::vector<std::string> splitRow(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream ss(line);
  while (std::getline(ss, cell, ','))
    out.push_back(trim(cell));
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

} // namespace

Dataset Dataset::subset(const std::vector<int>& rows) const {
  Dataset d;
  d.featureNames = featureNames;
  d.labelName = labelName;
  d.X.resize(static_cast<Eigen::Index>(rows.size()), X.cols());
  d.y.resize(static_cast<Eigen::Index>(rows.size()));
  for (size_t i = 0; i < rows.size(); ++i) {
    d.X.row(i) = X.row(rows[i]);
    d.y[i] = y[rows[i]];
    if (!lines.empty()) d.lines.push_back(lines[rows[i]]);
  }
  return d;
}

Expected<Dataset> parseCsv(const std::string& text, const std::string& displayName,
                           const std::string& labelColumn) {
  std::istringstream in(text);
  std::string line;
  int ln = 0;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    ++ln;
    if (!trim(line).empty()) {
      header = splitRow(line);
      break;
    }
  }
  if (header.empty()) return Error(SourceLoc{displayName, 1, 0}, "empty CSV file (no header)");
  int labelIdx = -1;
  Dataset d;
  d.labelName = labelColumn;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == labelColumn) {
      if (labelIdx >= 0)
        return Error(SourceLoc{displayName, ln, 0},
                     "label column '" + labelColumn + "' appears twice in the header");
      labelIdx = static_cast<int>(i);
    } else {
      d.featureNames.push_back(header[i]);
    }
  }
  if (labelIdx < 0)
    return Error(SourceLoc{displayName, ln, 0},
                 "no column named '" + labelColumn + "' in the header");
  if (d.featureNames.empty())
    return Error(SourceLoc{displayName, ln, 0}, "no feature columns besides the label");
  const size_t cols = header.size();
  std::vector<double> feats, labels;
  while (std::getline(in, line)) {
    ++ln;
    if (trim(line).empty()) continue;
    auto cells = splitRow(line);
    if (cells.size() != cols)
      return Error(SourceLoc{displayName, ln, 0}, "expected " + std::to_string(cols) +
                                                      " fields, got " +
                                                      std::to_string(cells.size()));
    for (size_t i = 0; i < cols; ++i) {
      const char* b = cells[i].c_str();
      char* e = nullptr;
      errno = 0;
      double v = std::strtod(b, &e);
      if (cells[i].empty() || *e != '\0' || errno == ERANGE || !std::isfinite(v))
        return Error(SourceLoc{displayName, ln, 0},
                     "bad number '" + cells[i] + "' in column '" + header[i] + "'");
      (static_cast<int>(i) == labelIdx ? labels : feats).push_back(v);
    }
    d.lines.push_back(ln);
  }
  if (labels.empty()) return Error(SourceLoc{displayName, ln, 0}, "no data rows");
  const Eigen::Index n = static_cast<Eigen::Index>(labels.size());
  const Eigen::Index p = static_cast<Eigen::Index>(d.featureNames.size());
  d.X = Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      feats.data(), n, p);
  d.y = Eigen::Map<Eigen::VectorXd>(labels.data(), n);
  return d;
}

Expected<Dataset> loadCsv(const std::string& path, const std::string& labelColumn) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error(SourceLoc{path, 0, 0}, "cannot open file");
  std::ostringstream ss;
  ss << f.rdbuf();
  return parseCsv(ss.str(), path, labelColumn);
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

std::pair<Dataset, Dataset> trainTestSplit(const Dataset& d, double testFraction, Rng& rng) {
  std::vector<int> p = permutation(rng, d.size());
  int nTest = static_cast<int>(std::lround(d.size() * testFraction));
  nTest = std::clamp(nTest, 0, d.size());
  std::vector<int> test(p.begin(), p.begin() + nTest), train(p.begin() + nTest, p.end());
  return {d.subset(train), d.subset(test)};
}

} // namespace chassis::neural
