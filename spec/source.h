// Source text: reading a .chs file and finding a line in it (for diagnostics' source lines).
#pragma once

#include "spec/error.h"

#include <string>
#include <string_view>

namespace chassis::spec {

/// The whole contents of `path`, or an error "cannot open 'path'" / "cannot read 'path'" located
/// at `where` (e.g. the import that names the file).
Expected<std::string> readSourceFile(const std::string& path, const SourceLoc& where = {});

/// The text of 1-based line `line` of `text` without its line terminator ("" if out of range).
std::string_view sourceLine(std::string_view text, int line);

} // namespace chassis::spec
