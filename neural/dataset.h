// Tabular datasets for training: a feature matrix (one sample per row) and a label per sample,
// read from CSV. The CSV has a header row naming the columns; one column (chosen by name) is the
// label, every other column is a numeric feature. Empty lines are skipped; a row with the wrong
// number of fields or a field that is not a finite number is `file:line: error: ...`.
// (Datasets generated from a .chs task come later, once the interpreter exists: they will fill
// the same struct.)
#pragma once

#include "spec/error.h"
#include "spec/rng.h"

#include <Eigen/Dense>

#include <string>
#include <vector>

namespace chassis::neural {

struct Dataset {
  std::vector<std::string> featureNames;
  std::string labelName;
  Eigen::MatrixXd X;      // n x d
  Eigen::VectorXd y;      // n labels (class indices for classification, values for regression)
  std::vector<int> lines; // the source line of each sample (for messages); may be empty

  int size() const { return static_cast<int>(X.rows()); }
  int numFeatures() const { return static_cast<int>(X.cols()); }
  /// The samples at `rows`, in that order.
  Dataset subset(const std::vector<int>& rows) const;
};

Expected<Dataset> parseCsv(const std::string& text, const std::string& displayName,
                           const std::string& labelColumn);
Expected<Dataset> loadCsv(const std::string& path, const std::string& labelColumn);

/// A uniformly random index in [0, n) from `rng` (rejection sampling: no modulo bias).
uint64_t uniformIndex(Rng& rng, uint64_t n);
/// A uniformly random permutation of 0..n-1 (Fisher-Yates).
std::vector<int> permutation(Rng& rng, int n);

/// Shuffles (with `rng`) and splits: the first round(n * testFraction) shuffled samples are the
/// test set, the rest the training set.
std::pair<Dataset, Dataset> trainTestSplit(const Dataset& d, double testFraction, Rng& rng);

} // namespace chassis::neural
