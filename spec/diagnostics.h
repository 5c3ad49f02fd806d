// Diagnostics of the front end: errors are collected (several per file), then sorted by location
// and printed in the one format every Chassis tool uses:
//
//   file:line:col: error: message
//     <the source line>
//     <spaces>^
//
// Files are ordered by when their source was registered (addSource), then by line and column;
// the same message at the same place is printed once.
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

  void error(SourceLoc loc, std::string message);
  void report(const Error& e) { error(e.loc, e.message); }

  bool hasErrors() const { return !errors_.empty(); }
  size_t errorCount() const { return errors_.size(); }

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
  std::vector<Error> errors_;
  std::vector<std::pair<std::string, std::string>> sources_; // (file, text), registration order
};

} // namespace chassis::spec
