// Collecting, sorting and printing diagnostics (spec/diagnostics.h). Each registered source keeps
// the offsets of its line starts, so printing n diagnostics costs O(n log n + output), not
// O(n * file size).
#include "spec/diagnostics.h"

#include <algorithm>
#include <sstream>
#include <tuple>

namespace chassis::spec {

void DiagnosticEngine::addSource(const std::string& file, std::string text) {
  Source src{file, std::move(text), {0}};
  for (size_t i = 0; i < src.text.size(); ++i)
    if (src.text[i] == '\n') src.lineStarts.push_back(i + 1);
  for (auto& s : sources_)
    if (s.file == file) {
      s = std::move(src);
      return;
    }
  sources_.push_back(std::move(src));
}

void DiagnosticEngine::error(SourceLoc loc, std::string message) {
  if (errors_.size() >= kMaxErrors) {
    ++dropped_;
    return;
  }
  errors_.push_back(Error(std::move(loc), std::move(message)));
}

int DiagnosticEngine::fileRank(const std::string& file) const {
  for (size_t i = 0; i < sources_.size(); ++i)
    if (sources_[i].file == file) return static_cast<int>(i);
  return static_cast<int>(sources_.size());
}

std::vector<Error> DiagnosticEngine::sorted() const {
  std::vector<std::pair<int, const Error*>> v;
  v.reserve(errors_.size());
  for (const Error& e : errors_)
    v.emplace_back(fileRank(e.loc.file), &e);
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first, a.second->loc.file, a.second->loc.line, a.second->loc.col) <
           std::tie(b.first, b.second->loc.file, b.second->loc.line, b.second->loc.col);
  });
  std::vector<Error> out;
  for (auto& [rank, e] : v) {
    if (!out.empty() && out.back().loc.file == e->loc.file && out.back().loc.line == e->loc.line &&
        out.back().loc.col == e->loc.col && out.back().message == e->message)
      continue;
    out.push_back(*e);
  }
  return out;
}

void DiagnosticEngine::print(std::ostream& os) const {
  constexpr size_t kWidth = 160, kBefore = 80;
  for (const Error& e : sorted()) {
    os << e.str() << "\n";
    if (e.loc.line <= 0) continue;
    const Source* src = nullptr;
    for (auto& s : sources_)
      if (s.file == e.loc.file) src = &s;
    if (!src || static_cast<size_t>(e.loc.line) > src->lineStarts.size()) continue;
    size_t begin = src->lineStarts[static_cast<size_t>(e.loc.line) - 1];
    size_t end = src->text.find('\n', begin);
    std::string_view line(src->text);
    line = line.substr(begin, (end == std::string::npos ? src->text.size() : end) - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t col = e.loc.col > 0 ? static_cast<size_t>(e.loc.col) - 1 : 0;
    // A long line is shown as a window around the column.
    std::string prefix, suffix;
    if (line.size() > kWidth) {
      size_t from = col > kBefore ? std::min(col - kBefore, line.size()) : 0;
      if (from > 0) prefix = "...";
      if (line.size() - from > kWidth) suffix = "...";
      line = line.substr(from, kWidth);
      col -= std::min(col, from);
    }
    os << "  " << prefix << line << suffix << "\n  " << std::string(prefix.size(), ' ');
    // Keep tabs so the caret lines up under the offending character.
    for (size_t i = 0; i < col; ++i)
      os << (i < line.size() && line[i] == '\t' ? '\t' : ' ');
    os << "^\n";
  }
  if (dropped_ > 0) {
    std::string file = errors_.empty() ? std::string() : errors_.front().loc.file;
    os << Error(SourceLoc{file, 0, 0}, "too many errors: " + std::to_string(dropped_) +
                                           " more not shown (the first " +
                                           std::to_string(kMaxErrors) + " are above)")
              .str()
       << "\n";
  }
}

std::string DiagnosticEngine::str() const {
  std::ostringstream ss;
  print(ss);
  return ss.str();
}

std::vector<std::string> DiagnosticEngine::messages() const {
  std::vector<std::string> out;
  for (const Error& e : sorted())
    out.push_back(e.str());
  return out;
}

} // namespace chassis::spec
