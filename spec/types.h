// The types of the .chs language, as the checker assigns them to every expression and variable.
//
// Value types: bool, int (64-bit signed), real (a real number; executed as float64), enums,
// fixed-size one-dimensional arrays T[N] of a scalar type (N >= 1), and two-dimensional arrays
// (matrices) T[N, K], stored row-major: a matrix is an Array whose `cols` is K >= 1 and whose
// `length` is N * K, the number of elements, so that code which only needs the flat storage (the
// lowering to the IR, whose arrays are flat) treats both alike. Arrays of arrays do not exist.
// Two non-value types exist only inside the checker's bookkeeping and never on a checked value
// expression: `Error` (an expression that already produced a diagnostic; it absorbs further
// errors so one mistake gives one message) and `Distribution` (the type of `D(args)`, which only
// appears as the right side of `~` and the first argument of `observe`).
#pragma once

#include <cstdint>
#include <string>

namespace chassis::spec {

struct EnumDecl;

enum class TypeKind : uint8_t { Error, Bool, Int, Real, Enum, Array, Distribution };

struct Type {
  TypeKind kind = TypeKind::Error;
  TypeKind elem = TypeKind::Error;    // Array: the element kind (Bool, Int, Real or Enum)
  const EnumDecl* enumDecl = nullptr; // Enum, or Array of Enum: the enum
  int64_t length = 0;                 // Array: the number of elements (>= 1; N * K for a matrix)
  int64_t cols = 0;                   // Array: 0 for one dimension; a matrix's row length K

  static Type error() { return {}; }
  static Type boolean() { return {TypeKind::Bool}; }
  static Type integer() { return {TypeKind::Int}; }
  static Type real() { return {TypeKind::Real}; }
  static Type distribution() { return {TypeKind::Distribution}; }
  static Type enumeration(const EnumDecl* e) {
    return {TypeKind::Enum, TypeKind::Error, e, 0, 0};
  }
  /// An array of `element` (a scalar type) with `n` elements.
  static Type array(const Type& element, int64_t n) {
    return {TypeKind::Array, element.kind, element.enumDecl, n, 0};
  }
  /// A matrix of `element` with `rows` rows of `cols` elements (row-major).
  static Type matrix(const Type& element, int64_t rows, int64_t cols) {
    return {TypeKind::Array, element.kind, element.enumDecl, rows * cols, cols};
  }

  bool isError() const { return kind == TypeKind::Error; }
  bool isArray() const { return kind == TypeKind::Array; }
  /// A one-dimensional array T[N].
  bool isVector() const { return kind == TypeKind::Array && cols == 0; }
  /// A two-dimensional array T[N, K].
  bool isMatrix() const { return kind == TypeKind::Array && cols > 0; }
  /// A matrix's number of rows N.
  int64_t rows() const { return cols > 0 ? length / cols : 0; }
  /// A matrix's row: T[K].
  Type row() const { return array(element(), cols); }
  bool isScalar() const {
    return kind == TypeKind::Bool || kind == TypeKind::Int || kind == TypeKind::Real ||
           kind == TypeKind::Enum;
  }
  /// int or real (a scalar number; bool is not a number).
  bool isNumeric() const { return kind == TypeKind::Int || kind == TypeKind::Real; }
  /// The element type of an array.
  Type element() const { return {elem, TypeKind::Error, enumDecl, 0, 0}; }

  bool operator==(const Type& o) const {
    return kind == o.kind && elem == o.elem && enumDecl == o.enumDecl && length == o.length &&
           cols == o.cols;
  }
  bool operator!=(const Type& o) const { return !(*this == o); }

  /// As written in source: "bool", "int", "real", "Color", "real[5]", "real[2, 3]"; "<error>", "distribution".
  std::string str() const;
};

} // namespace chassis::spec
