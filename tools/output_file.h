// Writing result files whole or not at all: the text goes to a temporary file beside the target,
// which is then renamed over it, so an interrupted or failed run never leaves a half-written
// report, network or circuit behind.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace chassis::tools {

/// Writes `text` to `path` atomically; false, with a diagnostic on standard error, when it cannot.
bool writeFileAtomic(const std::string& path, const std::string& text);

/// Writes several files all or nothing: each to a temporary file beside it, then, once every one
/// is complete, renamed into place. False, with a diagnostic, when one cannot be written (then
/// no target is touched, unless a rename itself fails midway, which is reported).
bool writeFilesAtomic(const std::vector<std::pair<std::string, std::string>>& pathsAndTexts);

/// Checks up front that each path's directory exists and is writable (so a long run does not
/// fail at its end); false, with a diagnostic naming the path, when one is not.
bool checkWritable(const std::vector<std::string>& paths);

} // namespace chassis::tools
