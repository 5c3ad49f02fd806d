// Collecting, sorting and printing diagnostics (spec/diagnostics.h).
#include "spec/diagnostics.h"

#include "spec/source.h"

#include <algorithm>
#include <sstream>
#include <tuple>

namespace chassis::spec {

void DiagnosticEngine::addSource(const std::string& file, std::string text) {
  for (auto& s : sources_)
    if (s.first == file) {
      s.second = std::move(text);
      return;
    }
  sources_.emplace_back(file, std::move(text));
}

void DiagnosticEngine::error(SourceLoc loc, std::string message) {
  errors_.push_back(Error(std::move(loc), std::move(message)));
}

int DiagnosticEngine::fileRank(const std::string& file) const {
  for (size_t i = 0; i < sources_.size(); ++i)
    if (sources_[i].first == file) return static_cast<int>(i);
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
  for (const Error& e : sorted()) {
    os << e.str() << "\n";
    if (e.loc.line <= 0) continue;
    const std::string* text = nullptr;
    for (auto& s : sources_)
      if (s.first == e.loc.file) text = &s.second;
    if (!text) continue;
    std::string_view line = sourceLine(*text, e.loc.line);
    os << "  " << line << "\n  ";
    // Keep tabs so the caret lines up under the offending character.
    for (int i = 0; i + 1 < e.loc.col; ++i)
      os << (i < static_cast<int>(line.size()) && line[i] == '\t' ? '\t' : ' ');
    os << "^\n";
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
