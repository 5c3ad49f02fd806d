// Discrete factor algebra (see factor.h for the representation). Product and marginalisation
// walk the result's assignments in row-major order with an odometer, moving each operand's index
// by its own stride for the digit that changes (Koller & Friedman, Algorithm 10.A.1), so no
// assignment vector is decoded per entry.
#include "symbolic/factor.h"

#include "symbolic/special.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace chassis::symbolic {
namespace {

std::vector<int64_t> rowMajorStrides(const std::vector<int>& cards) {
  std::vector<int64_t> s(cards.size());
  int64_t stride = 1;
  for (size_t i = cards.size(); i-- > 0;) {
    s[i] = stride;
    stride *= cards[i];
  }
  return s;
}

// Strides of `f`'s variables laid out along `vars` (0 where f does not mention the variable).
std::vector<int64_t> stridesAlong(const std::vector<VarId>& vars, const Factor& f,
                                  const std::vector<int64_t>& fStrides) {
  std::vector<int64_t> s(vars.size(), 0);
  for (size_t i = 0; i < vars.size(); ++i) {
    const int p = f.position(vars[i]);
    if (p >= 0) s[i] = fStrides[p];
  }
  return s;
}

constexpr int64_t kMaxTable = int64_t(1) << 31; // a larger table is a modelling error

} // namespace

Expected<Factor> Factor::fromValues(std::vector<VarId> vars, std::vector<int> cards,
                                    std::vector<double> values) {
  if (vars.size() != cards.size())
    return Error("factor: " + std::to_string(vars.size()) + " variables but " +
                 std::to_string(cards.size()) + " cardinalities");
  int64_t n = 1;
  for (size_t i = 0; i < vars.size(); ++i) {
    if (cards[i] < 1)
      return Error("factor: variable " + std::to_string(vars[i]) + " has cardinality " +
                   std::to_string(cards[i]));
    for (size_t j = 0; j < i; ++j)
      if (vars[j] == vars[i])
        return Error("factor: variable " + std::to_string(vars[i]) + " appears twice");
    n *= cards[i];
    if (n > kMaxTable) return Error("factor: table too large");
  }
  if (static_cast<int64_t>(values.size()) != n)
    return Error("factor: expected " + std::to_string(n) + " values, got " +
                 std::to_string(values.size()));
  for (double v : values)
    if (!(v >= 0) || !std::isfinite(v))
      return Error("factor: values must be finite and >= 0, got " + formatNumber(v));
  Factor f;
  f.vars_ = std::move(vars);
  f.cards_ = std::move(cards);
  f.strides_ = rowMajorStrides(f.cards_);
  f.table_ = std::move(values);
  f.logScale_ = 0;
  f.rescale();
  return f;
}

Expected<Factor> Factor::fromLogValues(std::vector<VarId> vars, std::vector<int> cards,
                                       std::span<const double> logValues) {
  double m = -std::numeric_limits<double>::infinity();
  for (double l : logValues) {
    if (std::isnan(l) || l == std::numeric_limits<double>::infinity())
      return Error("factor: log values must be < +inf, got " + formatNumber(l));
    m = std::max(m, l);
  }
  if (m == -std::numeric_limits<double>::infinity()) m = 0;
  std::vector<double> values(logValues.size());
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = std::exp(logValues[i] - m);
  auto f = fromValues(std::move(vars), std::move(cards), std::move(values));
  if (f) f->logScale_ += m;
  return f;
}

bool Factor::contains(VarId v) const {
  return position(v) >= 0;
}

int Factor::position(VarId v) const {
  for (size_t i = 0; i < vars_.size(); ++i)
    if (vars_[i] == v) return static_cast<int>(i);
  return -1;
}

double Factor::logValue(std::span<const int> a) const {
  assert(a.size() == vars_.size());
  int64_t idx = 0;
  for (size_t i = 0; i < a.size(); ++i)
    idx += a[i] * strides_[i];
  return std::log(table_[idx]) + logScale_;
}

double Factor::logTotal() const {
  double s = 0;
  for (double v : table_)
    s += v;
  return std::log(s) + logScale_;
}

std::vector<double> Factor::normalized() const {
  double s = 0;
  for (double v : table_)
    s += v;
  std::vector<double> out(table_.size(), 0.0);
  if (s > 0)
    for (size_t i = 0; i < out.size(); ++i)
      out[i] = table_[i] / s;
  return out;
}

void Factor::rescale() {
  double m = 0;
  for (double v : table_)
    m = std::max(m, v);
  if (m == 0 || m == 1) return;
  const double inv = 1.0 / m;
  for (double& v : table_)
    v *= inv;
  logScale_ += std::log(m);
}

Factor Factor::product(const Factor& psi) const {
  Factor r;
  r.vars_ = vars_;
  r.cards_ = cards_;
  for (size_t j = 0; j < psi.vars_.size(); ++j) {
    const int p = position(psi.vars_[j]);
    if (p < 0) {
      r.vars_.push_back(psi.vars_[j]);
      r.cards_.push_back(psi.cards_[j]);
    } else {
      assert(cards_[p] == psi.cards_[j]);
    }
  }
  r.strides_ = rowMajorStrides(r.cards_);
  int64_t n = 1;
  for (int c : r.cards_)
    n *= c;
  r.table_.assign(static_cast<size_t>(n), 0.0);
  r.logScale_ = logScale_ + psi.logScale_;
  const std::vector<int64_t> sa = stridesAlong(r.vars_, *this, strides_);
  const std::vector<int64_t> sb = stridesAlong(r.vars_, psi, psi.strides_);
  const size_t k = r.vars_.size();
  std::vector<int> digit(k, 0);
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < n; ++i) {
    r.table_[i] = table_[ia] * psi.table_[ib];
    // Advance the odometer: the last variable fastest.
    for (size_t d = k; d-- > 0;) {
      if (++digit[d] < r.cards_[d]) {
        ia += sa[d];
        ib += sb[d];
        break;
      }
      digit[d] = 0;
      ia -= sa[d] * (r.cards_[d] - 1);
      ib -= sb[d] * (r.cards_[d] - 1);
    }
  }
  r.rescale();
  return r;
}

Factor Factor::sumOut(VarId v) const {
  const int p = position(v);
  assert(p >= 0);
  Factor r;
  for (size_t i = 0; i < vars_.size(); ++i)
    if (static_cast<int>(i) != p) {
      r.vars_.push_back(vars_[i]);
      r.cards_.push_back(cards_[i]);
    }
  r.strides_ = rowMajorStrides(r.cards_);
  const int64_t n = static_cast<int64_t>(table_.size()) / cards_[p];
  r.table_.assign(static_cast<size_t>(n), 0.0);
  r.logScale_ = logScale_;
  // This table viewed as [outer][card_p][inner]: the result is the sum over the middle index.
  const int64_t inner = strides_[p], outer = n / inner, cp = cards_[p];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t s = 0; s < cp; ++s) {
      const double* src = &table_[(o * cp + s) * inner];
      double* dst = &r.table_[o * inner];
      for (int64_t i = 0; i < inner; ++i)
        dst[i] += src[i];
    }
  r.rescale();
  return r;
}

Factor Factor::reduce(VarId v, int state) const {
  const int p = position(v);
  assert(p >= 0 && state >= 0 && state < cards_[p]);
  Factor r;
  for (size_t i = 0; i < vars_.size(); ++i)
    if (static_cast<int>(i) != p) {
      r.vars_.push_back(vars_[i]);
      r.cards_.push_back(cards_[i]);
    }
  r.strides_ = rowMajorStrides(r.cards_);
  const int64_t cp = cards_[p], inner = strides_[p];
  const int64_t outer = static_cast<int64_t>(table_.size()) / (cp * inner);
  r.table_.assign(static_cast<size_t>(outer * inner), 0.0);
  r.logScale_ = logScale_;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i)
      r.table_[o * inner + i] = table_[(o * cp + state) * inner + i];
  r.rescale();
  return r;
}

} // namespace chassis::symbolic
