// The one entry point of the .chs front end: read a file and everything it imports, parse,
// check, and build the call graph. The result is a checked Program (spec/ast.h lists what the
// checker guarantees), or, if anything was wrong, an Error (the first diagnostic) with every
// diagnostic in the DiagnosticEngine.
//
// Imports: `import "x.chs";` is resolved relative to the importing file's directory; each file
// (identified by its canonical path) is loaded once however often it is imported; an import cycle
// is an error at the import that closes it, naming the cycle ("import cycle: a.chs -> b.chs ->
// a.chs"). Imported files are displayed in diagnostics by their importer-relative path.
// If lexing, parsing or imports fail, checking is skipped (to avoid cascades from a broken tree).
#pragma once

#include "spec/ast.h"
#include "spec/data_sizes.h"
#include "spec/diagnostics.h"

#include <string>
#include <string_view>

namespace chassis::spec {

/// Loads and checks the .chs file at `path` (displayed as given). `sizes`: the run's data, which
/// fixes array lengths written as an int input's name (`y: real[T]`; spec/data_sizes.h).
Expected<Program> loadProgram(const std::string& path, DiagnosticEngine& diags,
                              const DataSizes* sizes = nullptr);

/// The same for source text; `name` is the displayed file name, and imports are resolved
/// relative to its directory. For tests and the fuzzer.
Expected<Program> fromString(std::string_view source, const std::string& name,
                             DiagnosticEngine& diags, const DataSizes* sizes = nullptr);

/// Maximum depth of nested imports (a chain longer than this is an error).
inline constexpr int kMaxImportDepth = 64;

} // namespace chassis::spec
