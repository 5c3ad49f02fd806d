// The one JSON shape of every `chassis ... --json` report, so that scripts read all subcommands
// alike:
//   {"tool": "chassis", "version": "0.1.0", "command": "verify", "file": "model.chs",
//    "options": {...the options that shape the result...}, "results": [...], "summary": {...}}
// and of an error under --json, printed on standard output (with the same exit code as without
// --json):
//   {"error": {"file": "model.chs", "line": 3, "col": 7, "message": "..."}}
#pragma once

#include "spec/diagnostics.h"
#include "spec/error.h"
#include "spec/ir.h"
#include "symbolic/interp.h"

#include <nlohmann/json.hpp>

#include <string>

namespace chassis::tools {

inline constexpr const char* kVersion = "0.1.0";

/// `j` as text, `indent` spaces per level (-1: one line). Bytes that are not UTF-8 (a file name
/// or argument from the command line) are replaced by U+FFFD instead of throwing: every JSON the
/// command prints or writes goes through here.
std::string jsonText(const nlohmann::ordered_json& j, int indent = 2);

/// The report envelope (see above); `results` is an array, `options` and `summary` objects.
nlohmann::ordered_json jsonEnvelope(const std::string& command, const std::string& file,
                                    nlohmann::ordered_json options, nlohmann::ordered_json results,
                                    nlohmann::ordered_json summary);

/// Prints the envelope of a command whose report is one object (`result` becomes results[0]),
/// with summary {"exit_code": code}; returns `code`.
int printReport(const std::string& command, const std::string& file, nlohmann::ordered_json options,
                nlohmann::ordered_json result, int code = 0);
int printReport(const std::string& command, const std::string& file, nlohmann::ordered_json options,
                const nlohmann::json& result, int code = 0);

/// {"error": {...}} of `e` (file, line, col only when known; message always).
nlohmann::ordered_json jsonError(const Error& e);

/// Prints jsonError(e) on standard output and returns `code`.
int printJsonError(const Error& e, int code);

/// The first (sorted) error of `diags` as printJsonError; the whole diagnostic list goes to
/// standard error as usual, so nothing is lost.
int printJsonDiagnostics(const spec::DiagnosticEngine& diags, int code);

/// A float64 as JSON: a number (nlohmann prints the shortest text that reads back to the same
/// double), or null for NaN and infinities, which JSON cannot hold.
nlohmann::ordered_json jsonNumber(double x);

/// A run-time value of type `t` as JSON: bools true/false, ints integers, enums by constant name,
/// reals as jsonNumber, arrays as arrays of those.
nlohmann::ordered_json valueJson(const symbolic::Value& v, const ir::Type& t,
                                 const ir::Context& ctx);

} // namespace chassis::tools
