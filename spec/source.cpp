// Source text helpers (spec/source.h).
#include "spec/source.h"

#include <fstream>
#include <sstream>

namespace chassis::spec {

Expected<std::string> readSourceFile(const std::string& path, const SourceLoc& where) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(where, "cannot open '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error(where, "cannot read '" + path + "'");
  return ss.str();
}

std::string_view sourceLine(std::string_view text, int line) {
  if (line < 1) return {};
  size_t pos = 0;
  for (int l = 1; l < line; ++l) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return {};
    pos = nl + 1;
  }
  size_t end = text.find('\n', pos);
  std::string_view s =
      text.substr(pos, end == std::string_view::npos ? text.size() - pos : end - pos);
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

} // namespace chassis::spec
