// Reader for VNN-LIB property files (the VNN-COMP subset of SMT-LIB 2): `declare-const` of
// X_i and Y_i of sort Real, `assert` over `<=`, `>=`, `and`, `or` with linear terms (numbers,
// variables, `(* c t)`, `(+ t ...)`, `(- t ...)`), and `;` comments. A property file describes
// the UNSAFE set: the property holds (VNN-COMP `unsat`) iff no input satisfies every assert.
//
// The asserts are a conjunction; each is put in disjunctive normal form and the conjunction of
// the DNFs is distributed (so `(assert (or A B)) (assert C)` is `(A and C) or (B and C)`, never
// `A or (B and C)`). Each disjunct becomes a VnnCase: an input box (every atom over inputs must
// be a bound on a single X_i) and a conjunction of linear constraints over the outputs. Atoms
// that mix inputs and outputs are rejected as unsupported. Cases whose box is empty or that
// contain a constant false atom are dropped (they admit no input); constant true atoms vanish.
// Numbers denote exactly the float64 they are read as (as .chs literals do); arithmetic on them
// (constant products, sums of like terms, moving terms across `<=`) must be exact in float64 --
// a result that would round, overflow or underflow (`(* 1e-170 1e-170 Y_0)`) is an Error, never
// a silently different atom. Parentheses nest at most 1000 deep.
// Anything outside the subset is an Error with its `file:line:col`. In spec/ because it is a
// language reader; it knows nothing of networks.
#pragma once

#include "spec/error.h"

#include <string>
#include <string_view>
#include <vector>

namespace chassis::spec {

/// sum_j coef[j] * Y_j <= rhs  (coef has one entry per output).
struct OutputConstraint {
  std::vector<double> coef;
  double rhs = 0.0;
};

/// One disjunct of the unsafe set: X in [lo, hi] (componentwise) and every constraint holds.
struct VnnCase {
  std::vector<double> lo, hi;
  std::vector<OutputConstraint> constraints;
};

struct VnnProperty {
  int numInputs = 0, numOutputs = 0;
  std::vector<VnnCase> cases; // the unsafe set is the union of the cases
};

/// Parses VNN-LIB text; `file` is used only in error locations.
Expected<VnnProperty> parseVnnlib(std::string_view text, const std::string& file);
/// Reads and parses a file.
Expected<VnnProperty> readVnnlib(const std::string& path);

} // namespace chassis::spec
