// What a network computes, as `chassis train` records it in the ONNX file's metadata_props:
// the feature (input) names, the box each was drawn from, the class names of a classifier's
// outputs, the label, and the task (the .chs file and input module) it was trained on. Keys:
//   chassis.features        JSON array of the input names, one per input element
//   chassis.feature_ranges  JSON array of [lo, hi], one per input (null: unknown)
//   chassis.range_source    JSON array: "box" (drawn from it) or "samples" (the dataset's extent)
//   chassis.classes         JSON array of class names, one per output (absent: regression)
//   chassis.label           the label: Module.output or a CSV column
//   chassis.task_file, chassis.task_inputs   the .chs file and module the samples came from
//   chassis.csv             the CSV file trained on (instead of a task)
// Other producers' keys are kept and shown as they are. `eval --describe` and `regions` show
// them; `train --emit=chs` prints the language's `network` declaration for the network.
#pragma once

#include "neural/network.h"
#include "neural/onnx.h"
#include "spec/error.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chassis::tools {

struct NetworkInfo {
  std::vector<std::string> features;
  std::vector<std::optional<std::pair<double, double>>> ranges; // per feature (may be empty)
  std::vector<std::string> rangeSource;                         // per feature: box | samples
  std::vector<std::string> classes;                             // empty: not a classifier
  std::string label, taskFile, taskInputs, csv;
  neural::OnnxMetadata other; // keys that are not chassis.*

  bool empty() const {
    return features.empty() && classes.empty() && label.empty() && taskFile.empty() &&
           csv.empty() && other.empty();
  }
};

neural::OnnxMetadata toOnnxMetadata(const NetworkInfo& info);
/// Reads the chassis.* keys back; a malformed value is an error naming `file` and the key.
Expected<NetworkInfo> fromOnnxMetadata(const neural::OnnxMetadata& meta, const std::string& file);
/// The metadata of a network file: ONNX metadata_props; an NNet file has none (empty info).
Expected<NetworkInfo> readNetworkInfo(const std::string& path);

/// Human-readable lines ("features: speed in [0, 30], ..."), empty for an empty info.
std::string describeNetworkInfo(const NetworkInfo& info);

/// A network file's layers (Network::describe) followed by describeNetworkInfo of its metadata,
/// for `vnnlib --verbose`; an NNet file as its raw-input form.
Expected<std::string> describeNetworkFile(const std::string& path);

/// The `network` declaration of the .chs language (spec/LANGUAGE.md §5.5) for a network of
/// `inputSize` inputs and `outputSize` outputs stored at `path`: one real input per feature named
/// after it (made an identifier), with its range; the outputs as `logits: real[K]` (classes) or
/// `output: real` / `output: real[K]`; comments name the classes and the task.
std::string networkDeclaration(const NetworkInfo& info, const std::string& name,
                               const std::string& path, int inputSize, int outputSize);

/// A .chs identifier made from `s` (letters, digits, _; not a reserved word; not empty).
std::string chsIdentifier(const std::string& s, const std::string& fallback);

} // namespace chassis::tools
