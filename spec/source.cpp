// Source text helpers (spec/source.h).
#include "spec/source.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace chassis::spec {

Expected<std::string> readSourceFile(const std::string& path, const SourceLoc& where,
                                     const std::string& what) {
  namespace fs = std::filesystem;
  auto fail = [&](const std::string& reason) {
    return Error(where, "cannot open " + what + "'" + path + "'" + reason);
  };
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return fail("");
  if (fs::is_directory(st)) return fail(" (it is a directory)");
  if (!fs::is_regular_file(st)) return fail(" (not a regular file)");
  std::uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > kMaxSourceBytes) return fail(" (larger than 64 MiB)");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error(where, "cannot read " + what + "'" + path + "'");
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
