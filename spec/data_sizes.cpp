// Reading the sizes a run's data gives (see data_sizes.h).
#include "spec/data_sizes.h"
#include "spec/data_json.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace chassis::spec {

namespace {

using json = nlohmann::json;

DataValue describe(const json& j, std::string origin) {
  DataValue d;
  d.origin = std::move(origin);
  if (j.is_number()) {
    d.isNumber = true;
    const double v = j.get<double>();
    if (v == std::floor(v) && std::fabs(v) <= 9007199254740992.0) d.integer = int64_t(v);
  } else if (j.is_array()) {
    d.arrayLength = j.size();
    bool allRows = !j.empty();
    for (size_t k = 0; k < j.size(); ++k) {
      if (!j[k].is_array()) {
        allRows = false;
        continue;
      }
      d.nested = true;
      if (!d.rowLength) d.rowLength = j[k].size();
      if (j[k].size() != *d.rowLength && !d.raggedRow) d.raggedRow = k;
    }
    if (!allRows && d.nested && !d.raggedRow) {
      // Rows mixed with scalars: report the first element that is not a row.
      for (size_t k = 0; k < j.size(); ++k)
        if (!j[k].is_array()) {
          d.raggedRow = k;
          break;
        }
    }
    if (!allRows) d.rowLength.reset();
  }
  return d;
}

/// The 1-based line and column of byte offset `pos` in `text`.
SourceLoc locate(const std::string& file, std::string_view text, size_t pos) {
  SourceLoc loc{file, 1, 1};
  for (size_t k = 0; k < pos && k < text.size(); ++k) {
    if (text[k] == '\n') {
      ++loc.line;
      loc.col = 1;
    } else {
      ++loc.col;
    }
  }
  return loc;
}

} // namespace

Expected<json> parseDataObject(std::string_view text, const std::string& file) {
  json j;
  // nlohmann::json reports syntax errors by exception: caught here, at the one boundary.
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    std::string msg = e.what();
    if (auto p = msg.find("syntax error"); p != std::string::npos) msg = msg.substr(p);
    // e.byte is the 1-based offset of the character where parsing failed.
    return Error(locate(file, text, e.byte > 0 ? e.byte - 1 : 0), "malformed JSON: " + msg);
  } catch (const json::exception& e) {
    return Error(SourceLoc{file, 0, 0}, std::string("malformed JSON: ") + e.what());
  }
  if (!j.is_object()) return Error(SourceLoc{file, 0, 0}, "the data must be a JSON object");
  return j;
}

Expected<DataSizes> readDataSizes(std::string_view text, const std::string& file) {
  Expected<json> parsed = parseDataObject(text, file);
  if (!parsed) return parsed.error();
  const json& j = *parsed;
  DataSizes out;
  for (auto it = j.begin(); it != j.end(); ++it)
    out.values[it.key()] = describe(it.value(), "the data file '" + file + "'");
  return out;
}

void addInputSize(DataSizes& sizes, const std::string& name, std::string_view valueText) {
  json j = json::parse(valueText, nullptr, /*allow_exceptions=*/false);
  sizes.values[name] = describe(j.is_discarded() ? json() : j, "--input");
}

} // namespace chassis::spec
