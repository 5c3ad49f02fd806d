// Reading a --data JSON file: the one place where nlohmann::json's parse exceptions are caught
// for data files (the front end's sizes, spec/data_sizes.h, and the runtime's binding,
// symbolic::bindJsonInputs). Kept apart from data_sizes.h so that the front end's headers do not
// pull in the JSON library.
#pragma once

#include "spec/error.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace chassis::spec {

/// Parses `text`, the contents of the data file `file`, as a JSON object: a syntax error is an
/// Error located at its line and column in `file`, and so is a value that is not an object.
Expected<nlohmann::json> parseDataObject(std::string_view text, const std::string& file);

} // namespace chassis::spec
