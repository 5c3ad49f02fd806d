// Training datasets from a .chs task: the inputs of each sample come from one module
// (the "input module"), the label from a reference module run on those inputs. This is the first
// piece of the tasks/ layer, which sits above symbolic/, neural/ and verifier/: it needs both the
// interpreter (symbolic/) and the dataset type (neural/), which must not include each other.
//
// Inputs, one sample at a time, all from one seeded chassis::Rng (so a seed gives the same bytes):
//   - the input module has inputs: each is drawn uniformly from its box, the declared range
//     (`real in [a, b]`) or a --box override `name=lo:hi` inside it. Reals uniformly on [lo, hi],
//     ints uniformly on the integers of [lo, hi], bools fair, enums uniformly over the constants;
//     array inputs element by element. An input with no range and no --box is an error.
//   - the input module has no inputs: it is run with the interpreter (its random choices drawn),
//     and the features are its outputs and/or named random choices (`Sensor/noise`).
//   Features by default: the module's inputs if it has any, else its outputs except the label;
//   `features` picks and orders them by name (an input, an output or a choice address).
// Label: `Module.output`, `Module` (a module with one output) or `output` (an output of the input
// module). When the label's module is the input module, the label is taken from the same run;
// otherwise the reference module is run on the features, bound to its inputs by name, or by
// position when the names differ but the counts agree. A bool or enum output is a class label
// (cross-entropy; classes false/true or the enum's constants); an int or real output a regression
// target (MSE); a numeric array output a vector target.
// A module that observes, conditions or factors is refused: a dataset drawn from its prior would
// silently ignore its weight.
#pragma once

#include "neural/dataset.h"
#include "spec/diagnostics.h"
#include "spec/error.h"
#include "spec/ir.h"

#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <vector>

namespace chassis::tasks {

struct TaskOptions {
  std::string inputs;                // the input module
  std::vector<std::string> features; // optional: feature names, in order
  std::string label;                 // Module.output | Module | output
  std::vector<std::string> box;      // name=lo:hi overrides of input ranges
  int samples = 2000;
  uint64_t seed = 1;
};

enum class LabelKind { Class, Regression };

struct TaskDataset {
  neural::Dataset data;
  LabelKind kind = LabelKind::Class;
  int numClasses = 0; // Class: 2 for bool, the enum's constant count; Regression: 0
  /// Per feature column: the box it was drawn from (an input's range or --box; bool [0, 1], an
  /// enum [0, n-1]); none for an output or a random choice of the input module.
  std::vector<std::optional<std::pair<double, double>>> featureBox;
};

/// Builds the dataset of `opts` from `prog` (whose file is `file`, for error locations). Errors
/// about names and boxes are located at the module concerned (or the file); a run-time failure
/// of a module (assert, invalid parameter, ...) is the interpreter's located Error, and sets
/// `runtimeFailure`.
Expected<TaskDataset> buildTaskDataset(const ir::Program& prog, const std::string& file,
                                       const TaskOptions& opts, bool& runtimeFailure);

/// How loadTaskDataset ended: the dataset is built; the file, names or options are bad; or a
/// module failed while running (an assert, an invalid parameter).
enum class LoadStatus { Ok, BadInput, RunFailed };

/// Loads `file` and builds the dataset; prints any error through `diags` (with source lines) to
/// std::cerr.
LoadStatus loadTaskDataset(const std::string& file, const TaskOptions& opts,
                           spec::DiagnosticEngine& diags, TaskDataset& out);

} // namespace chassis::tasks
