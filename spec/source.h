// Source text: reading a .chs file and finding a line in it (for diagnostics' source lines).
#pragma once

#include "spec/error.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace chassis::spec {

/// Source files larger than this are refused (a .chs file is text written by people).
inline constexpr std::uintmax_t kMaxSourceBytes = 64u << 20;

/// The whole contents of the regular file `path`, or an error located at `where` (e.g. the import
/// that names the file): "cannot open <what>'path'" followed by the reason when it is known —
/// "(it is a directory)", "(not a regular file)" (a device such as /dev/zero, a FIFO: reading one
/// could block or never end), "(larger than 64 MiB)". `what` is e.g. "imported file ".
Expected<std::string> readSourceFile(const std::string& path, const SourceLoc& where = {},
                                     const std::string& what = "");

/// The text of 1-based line `line` of `text` without its line terminator ("" if out of range).
std::string_view sourceLine(std::string_view text, int line);

} // namespace chassis::spec
