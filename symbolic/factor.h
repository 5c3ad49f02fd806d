// Discrete factors for exact inference: a non-negative function phi(x_1..x_k) of finitely many
// discrete variables, stored as a dense table. Variables are integer ids into whatever variable
// list the caller keeps (a factor knows only each variable's cardinality), so the factor algebra is
// independent of where the model came from (BIF, a .chs model's finite random choices, ...).
//
// Representation: phi(x) = table[index(x)] * exp(logScale), where index(x) = sum_i x_i * stride_i
// with the LAST variable varying fastest (row-major: stride_last = 1, stride_i = stride_{i+1} *
// card_{i+1}). Every operation rescales its result so that the largest table entry is 1 and the
// magnitude lives in logScale; products of many small probabilities therefore never underflow,
// and log Z = logScale + log(sum(table)) stays accurate for very improbable evidence.
#pragma once

#include "spec/error.h"

#include <cstdint>
#include <span>
#include <vector>

namespace chassis::symbolic {

using VarId = int;

class Factor {
public:
  /// The constant factor 1 over no variables.
  Factor() = default;

  /// A factor over `vars` (distinct ids) with cardinalities `cards` (each >= 1) and the linear
  /// values `values` (size = product of cards, all finite and >= 0) in row-major order.
  static Expected<Factor> fromValues(std::vector<VarId> vars, std::vector<int> cards,
                                     std::vector<double> values);
  /// Same, from log values (-inf allowed for zeros).
  static Expected<Factor> fromLogValues(std::vector<VarId> vars, std::vector<int> cards,
                                        std::span<const double> logValues);

  const std::vector<VarId>& vars() const { return vars_; }
  const std::vector<int>& cards() const { return cards_; }
  size_t size() const { return table_.size(); }
  bool contains(VarId v) const;
  /// Position of v in vars(), or -1.
  int position(VarId v) const;

  /// log phi(x) for an assignment given in vars() order.
  double logValue(std::span<const int> assignment) const;
  /// log of the sum of all entries (the log partition function of this factor alone).
  double logTotal() const;
  /// The entries divided by their sum, row-major (all zeros if the sum is 0).
  std::vector<double> normalized() const;

  /// phi * psi over the union of the variables (this factor's first, then psi's new ones).
  /// The same id must have the same cardinality in both.
  Factor product(const Factor& psi) const;
  /// sum over v of phi (v must be one of vars()).
  Factor sumOut(VarId v) const;
  /// phi restricted to v = state, with v dropped (v must be one of vars(), state < its card).
  Factor reduce(VarId v, int state) const;

private:
  void rescale();

  std::vector<VarId> vars_;
  std::vector<int> cards_;
  std::vector<int64_t> strides_;
  std::vector<double> table_{1.0};
  double logScale_ = 0.0;
};

} // namespace chassis::symbolic
