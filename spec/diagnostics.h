// Diagnostics of the front end: errors are collected (several per file), then sorted by location
// and printed in the one format every Chassis tool uses:
//
//   file:line:col: error: message
//     <the source line>
//     <spaces>^
//
// Files are ordered by when their source was registered (addSource), then by line and column;
// the same message at the same place is printed once. Source lines longer than 160 characters
// are shown as a window around the column (with "..."), so the caret stays readable.
#pragma once

#include "spec/error.h"

#include <ostream>
#include <string>
#include <vector>

namespace chassis::spec {

class DiagnosticEngine {
public:
  /// Registers the text of `file`, so diagnostics located in it show their source line.
  void addSource(const std::string& file, std::string text);

  /// Records an error. After kMaxErrors, further errors are counted but not kept (a binary file
  /// given as source must not produce gigabytes of output); print() says how many were dropped.
  void error(SourceLoc loc, std::string message);
  static constexpr size_t kMaxErrors = 1000;
  void report(const Error& e) { error(e.loc, e.message); }

  bool hasErrors() const { return !errors_.empty(); }
  size_t errorCount() const { return errors_.size() + dropped_; }

  /// The errors sorted by location, duplicates removed.
  std::vector<Error> sorted() const;
  /// Prints sorted() with source lines and carets.
  void print(std::ostream& os) const;
  /// print() into a string (for tests).
  std::string str() const;
  /// Only the `file:line:col: error: message` lines, one per error (for tests).
  std::vector<std::string> messages() const;

private:
  int fileRank(const std::string& file) const;
  struct Source {
    std::string file, text;
    std::vector<size_t> lineStarts; // offset of each line's first character
  };
  std::vector<Error> errors_;
  size_t dropped_ = 0;
  std::vector<Source> sources_; // registration order
};

} // namespace chassis::spec
