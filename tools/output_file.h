// Writing result files whole or not at all: the text goes to a temporary file beside the target,
// which is then renamed over it, so an interrupted or failed run never leaves a half-written
// report, network or circuit behind.
#pragma once

#include <string>
#include <vector>

namespace chassis::tools {

/// Writes `text` to `path` atomically; false, with a diagnostic on standard error, when it cannot.
bool writeFileAtomic(const std::string& path, const std::string& text);

/// Checks up front that each path's directory exists and is writable (so a long run does not
/// fail at its end); false, with a diagnostic naming the path, when one is not.
bool checkWritable(const std::vector<std::string>& paths);

} // namespace chassis::tools
