// The data a run binds to a program's inputs, as far as the front end needs it: array lengths
// written as names (`y: real[T]`, where T is an int input) are fixed before checking from the
// integer values the run's data gives, so the checked program, the IR and every back end see
// constant sizes (the program is specialised per run). The values come from the top-level keys
// of a --data JSON object and from --input name=value arguments (which win); only integers and
// the lengths of arrays are recorded here: the full binding, with types and ranges, is the
// runtime's (symbolic::bindJsonInputs).
#pragma once

#include "spec/error.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace chassis::spec {

struct DataValue {
  std::optional<int64_t> integer;  // the value is an integral number (within +-2^53)
  bool isNumber = false;           // the value is a number (integral or not)
  std::optional<size_t> arrayLength; // the value is an array: its number of elements
  /// An array whose elements are all arrays (the rows of a matrix, `[[1, 2], [3, 4]]`): the
  /// length of its first row, and the first row (index) whose length differs from it, if any.
  std::optional<size_t> rowLength;
  std::optional<size_t> raggedRow;
  bool nested = false; // an array with at least one array element
  std::string origin;              // "data file 'd.json'" or "--input"
};

struct DataSizes {
  std::map<std::string, DataValue> values;
};

/// Records the top-level keys of the JSON object `jsonText` (the text of the data file `file`).
/// Malformed JSON or a non-object is an Error located in `file`.
Expected<DataSizes> readDataSizes(std::string_view jsonText, const std::string& file);

/// Records `--input name=value` (value as JSON text; anything else is recorded as a non-number),
/// replacing what the data file said about `name`.
void addInputSize(DataSizes& sizes, const std::string& name, std::string_view valueText);

} // namespace chassis::spec
