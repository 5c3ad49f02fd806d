// Tabular datasets for training: a feature matrix (one sample per row) and a label per sample
// (a class index for classification, a value for regression) or, for a regression onto a vector,
// a target row per sample. Read from and written to CSV: a header row naming the columns; the
// label column(s) chosen by name, every other column a numeric feature. Empty lines are skipped;
// a row with the wrong number of fields or a field that is not a finite number is
// `file:line:col: error: ...` (the column of the offending field). Datasets generated from a
// .chs task (tasks/task_dataset.h: inputs drawn from a module, labels computed by a reference
// module) fill the same struct; neural/ itself knows nothing of .chs files.
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
  Eigen::MatrixXd X; // n x d
  Eigen::VectorXd y; // n labels (class indices for classification, values for regression)
  /// n x k regression targets when the label is a vector (k >= 1); empty (0 columns) when the
  /// label is the scalar `y`. Only MSE training uses it; `labelNames` names its columns.
  Eigen::MatrixXd Y;
  std::vector<std::string> labelNames; // the columns of Y (empty when Y is)
  std::vector<std::string> classNames; // optional names of the classes 0, 1, ... (for output)
  std::vector<int> lines;     // the source line of each sample (for messages); may be empty
  std::vector<int> labelCols; // the column of each sample's (first) label field; with `lines`

  int size() const { return static_cast<int>(X.rows()); }
  int numFeatures() const { return static_cast<int>(X.cols()); }
  /// The regression targets as an n x k matrix: Y when set, else y as one column.
  Eigen::MatrixXd targets() const { return Y.cols() > 0 ? Y : Eigen::MatrixXd(y); }
  int numTargets() const { return Y.cols() > 0 ? static_cast<int>(Y.cols()) : 1; }
  /// The samples at `rows`, in that order.
  Dataset subset(const std::vector<int>& rows) const;
};

/// `labelColumn` names one column (the label y), or several separated by commas (a vector
/// target: Y, for MSE). Every other column is a feature.
Expected<Dataset> parseCsv(const std::string& text, const std::string& displayName,
                           const std::string& labelColumn);
Expected<Dataset> loadCsv(const std::string& path, const std::string& labelColumn);

/// The dataset as CSV text: a header (features, then the label column(s)) and one row per
/// sample, numbers with %.17g so that parseCsv reads back the same doubles.
std::string toCsv(const Dataset& d);
Status saveCsv(const Dataset& d, const std::string& path);

/// A uniformly random index in [0, n) from `rng` (rejection sampling: no modulo bias).
uint64_t uniformIndex(Rng& rng, uint64_t n);
/// A uniformly random permutation of 0..n-1 (Fisher-Yates).
std::vector<int> permutation(Rng& rng, int n);

/// Shuffles (with `rng`) and splits: the first round(n * testFraction) shuffled samples are the
/// test set, the rest the training set. `testRows`, when given, receives the test samples' rows
/// in `d`.
std::pair<Dataset, Dataset> trainTestSplit(const Dataset& d, double testFraction, Rng& rng,
                                           std::vector<int>* testRows = nullptr);

} // namespace chassis::neural
