// Recoverable errors as values, in the LLVM style: a function that can fail on bad input returns
// Expected<T>; bugs are asserts. An Error carries the source location of the offending input
// (file, 1-based line and column; line 0 means "the whole file", an empty file means "no file"),
// so every layer reports bad input as `file:line:col: error: message`.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace chassis {

struct SourceLoc {
  std::string file; // path as given by the user; empty when the input has no file
  int line = 0;     // 1-based; 0 when unknown
  int col = 0;      // 1-based; 0 when unknown
};

/// One failure with its location. `str()` renders it as `file:line:col: error: message`
/// (parts that are unknown are left out).
struct Error {
  SourceLoc loc;
  std::string message;

  Error() = default;
  explicit Error(std::string msg) : message(std::move(msg)) {}
  Error(SourceLoc l, std::string msg) : loc(std::move(l)), message(std::move(msg)) {}

  std::string str() const {
    // append() only: GCC 12 warns falsely (-Wrestrict) on `"literal" + std::string`.
    std::string out;
    if (!loc.file.empty()) {
      out.append(loc.file);
      if (loc.line > 0) {
        out.append(":").append(std::to_string(loc.line));
        if (loc.col > 0) out.append(":").append(std::to_string(loc.col));
      }
      out.append(": ");
    }
    out.append("error: ").append(message);
    return out;
  }
};

/// A value or an Error. Test with `if (!e)`, read with `*e` / `e->`, take the error with
/// `e.error()`.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Error err) : v_(std::move(err)) {}

  explicit operator bool() const { return v_.index() == 0; }
  T& operator*() & { assert(*this); return std::get<0>(v_); }
  const T& operator*() const& { assert(*this); return std::get<0>(v_); }
  T&& operator*() && { assert(*this); return std::get<0>(std::move(v_)); }
  T* operator->() { assert(*this); return &std::get<0>(v_); }
  const T* operator->() const { assert(*this); return &std::get<0>(v_); }
  const Error& error() const { assert(!*this); return std::get<1>(v_); }

private:
  std::variant<T, Error> v_;
};

/// Success or an Error, for functions with no value to return.
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(Error err) : err_(std::move(err)) {}
  static Status ok() { return {}; }
  explicit operator bool() const { return !err_.has_value(); }
  const Error& error() const { assert(err_); return *err_; }

private:
  std::optional<Error> err_;
};

} // namespace chassis
