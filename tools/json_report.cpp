// The JSON report envelope and errors (json_report.h).
#include "tools/json_report.h"

#include <cmath>
#include <iostream>

namespace chassis::tools {

using ojson = nlohmann::ordered_json;

std::string jsonText(const ojson& j, int indent) {
  return j.dump(indent, ' ', false, ojson::error_handler_t::replace);
}

ojson jsonEnvelope(const std::string& command, const std::string& file, ojson options,
                   ojson results, ojson summary) {
  ojson j;
  j["tool"] = "chassis";
  j["version"] = kVersion;
  j["command"] = command;
  j["file"] = file;
  j["options"] = options.is_null() ? ojson::object() : std::move(options);
  j["results"] = results.is_null() ? ojson::array() : std::move(results);
  j["summary"] = summary.is_null() ? ojson::object() : std::move(summary);
  return j;
}

int printReport(const std::string& command, const std::string& file, ojson options, ojson result,
                int code) {
  std::cout << jsonText(jsonEnvelope(command, file, std::move(options),
                                     ojson::array({std::move(result)}), ojson{{"exit_code", code}}))
            << "\n";
  return code;
}

int printReport(const std::string& command, const std::string& file, ojson options,
                const nlohmann::json& result, int code) {
  const std::string text = result.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return printReport(command, file, std::move(options), ojson::parse(text), code);
}

ojson jsonError(const Error& e) {
  ojson o;
  if (!e.loc.file.empty()) o["file"] = e.loc.file;
  if (e.loc.line > 0) o["line"] = e.loc.line;
  if (e.loc.col > 0) o["col"] = e.loc.col;
  o["message"] = e.message;
  return ojson{{"error", o}};
}

int printJsonError(const Error& e, int code) {
  std::cout << jsonText(jsonError(e)) << "\n";
  return code;
}

int printJsonDiagnostics(const spec::DiagnosticEngine& diags, int code) {
  diags.print(std::cerr);
  std::vector<Error> errors = diags.sorted();
  return printJsonError(errors.empty() ? Error("unknown error") : errors.front(), code);
}

ojson jsonNumber(double x) {
  return std::isfinite(x) ? ojson(x) : ojson(nullptr);
}

ojson valueJson(const symbolic::Value& v, const ir::Type& t, const ir::Context& ctx) {
  auto scalar = [&](double x) -> ojson {
    switch (t.scalar) {
    case ir::ScalarKind::Bool:
      return x != 0;
    case ir::ScalarKind::Int:
      return int64_t(x);
    case ir::ScalarKind::Enum:
      return ctx.enums()[size_t(t.enumId)].constants[size_t(x)];
    default:
      return jsonNumber(x);
    }
  };
  if (!t.isArray()) return scalar(v.s);
  ojson arr = ojson::array();
  for (double x : v.a)
    arr.push_back(scalar(x)); // the language's arrays are 1-D
  return arr;
}

} // namespace chassis::tools
