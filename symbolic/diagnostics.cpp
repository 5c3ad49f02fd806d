// MCMC diagnostics (see diagnostics.h for the definitions and the reference).
#include "symbolic/diagnostics.h"

#include "symbolic/special.h"

#include <unsupported/Eigen/FFT>

#include <algorithm>
#include <complex>
#include <cmath>
#include <limits>
#include <utility>

namespace chassis::symbolic {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double meanOf(const std::vector<double>& x) {
  double s = 0;
  for (double v : x)
    s += v;
  return s / static_cast<double>(x.size());
}

// Sample variance with denominator n - 1.
double varOf(const std::vector<double>& x) {
  if (x.size() < 2) return kNaN;
  const double m = meanOf(x);
  double s = 0;
  for (double v : x)
    s += (v - m) * (v - m);
  return s / static_cast<double>(x.size() - 1);
}

std::vector<double> pooled(const Chains& c) {
  std::vector<double> all;
  for (const auto& ch : c)
    all.insert(all.end(), ch.begin(), ch.end());
  return all;
}

Chains mapDraws(const Chains& c, auto f) {
  Chains out = c;
  for (auto& ch : out)
    for (double& x : ch)
      x = f(x);
  return out;
}

} // namespace

namespace {
double quantileOfSorted(const std::vector<double>& xs, double p) {
  if (xs.empty()) return kNaN;
  const double h = (static_cast<double>(xs.size()) - 1) * p;
  const size_t lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= xs.size()) return xs.back();
  return xs[lo] + (h - static_cast<double>(lo)) * (xs[lo + 1] - xs[lo]);
}
} // namespace

double quantile7(std::vector<double> xs, double p) {
  std::sort(xs.begin(), xs.end());
  return quantileOfSorted(xs, p);
}

std::vector<double> quantiles7(std::vector<double> xs, std::initializer_list<double> ps) {
  std::sort(xs.begin(), xs.end());
  std::vector<double> q;
  for (double p : ps) q.push_back(quantileOfSorted(xs, p));
  return q;
}

Chains splitChains(const Chains& draws) {
  Chains out;
  for (const auto& ch : draws) {
    const size_t n = ch.size() / 2;
    out.emplace_back(ch.begin(), ch.begin() + n);
    out.emplace_back(ch.end() - n, ch.end());
  }
  return out;
}

Chains rankNormalize(const Chains& chains) {
  std::vector<double> all = pooled(chains);
  const size_t s = all.size();
  // (value, position) pairs sorted: the values' order, ties by position (a stable sort's
  // order), with the values beside their positions rather than read through them.
  std::vector<std::pair<double, size_t>> order(s);
  for (size_t k = 0; k < s; ++k)
    order[k] = {all[k], k};
  std::sort(order.begin(), order.end());
  std::vector<double> z(s);
  for (size_t i = 0; i < s;) {
    size_t j = i;
    while (j < s && order[j].first == order[i].first)
      ++j;
    const double rank = 0.5 * (static_cast<double>(i + 1) + static_cast<double>(j)); // average
    const double zv = normalQuantile((rank - 0.375) / (static_cast<double>(s) + 0.25));
    for (size_t k = i; k < j; ++k)
      z[order[k].second] = zv;
    i = j;
  }
  Chains out = chains;
  size_t k = 0;
  for (auto& ch : out)
    for (double& x : ch)
      x = z[k++];
  return out;
}

double rhatBasic(const Chains& chains) {
  const size_t m = chains.size();
  if (m == 0 || chains[0].size() < 2) return kNaN;
  const double n = static_cast<double>(chains[0].size());
  std::vector<double> means, vars;
  for (const auto& ch : chains) {
    means.push_back(meanOf(ch));
    vars.push_back(varOf(ch));
  }
  const double w = meanOf(vars);
  const double bOverN = m > 1 ? varOf(means) : 0.0;
  if (!(w > 0)) return kNaN;
  const double varPlus = (n - 1) / n * w + bOverN;
  return std::sqrt(varPlus / w);
}

namespace {
/// The first lags of the mean autocovariance are summed directly (a chain that mixes needs a
/// few); past this lag every remaining one comes from one FFT per chain.
constexpr size_t kDirectLags = 64;

/// mean_j acov_j(t) for every lag t < n (denominator n) by FFT: each centred chain zero-padded
/// to a power of two at least 2n (no wrap-around), its power spectrum transformed back.
std::vector<double> meanAcovByFft(const Chains& chains, const std::vector<double>& means) {
  const size_t m = chains.size(), n = chains[0].size();
  size_t len = 1;
  while (len < 2 * n)
    len *= 2;
  Eigen::FFT<double> fft;
  std::vector<double> x(len), acov(len), total(n, 0.0);
  std::vector<std::complex<double>> spectrum;
  for (size_t j = 0; j < m; ++j) {
    std::fill(x.begin(), x.end(), 0.0);
    for (size_t i = 0; i < n; ++i)
      x[i] = chains[j][i] - means[j];
    fft.fwd(spectrum, x);
    for (std::complex<double>& c : spectrum)
      c = std::norm(c);
    fft.inv(acov, spectrum); // scaled by 1 / len
    for (size_t t = 0; t < n; ++t)
      total[t] += acov[t] / static_cast<double>(n);
  }
  for (double& v : total)
    v /= static_cast<double>(m);
  return total;
}
} // namespace

double essBasic(const Chains& chains) {
  const size_t m = chains.size();
  if (m == 0 || chains[0].size() < 4) return kNaN;
  const size_t n = chains[0].size();
  const double nd = static_cast<double>(n);
  std::vector<double> means;
  for (const auto& ch : chains)
    means.push_back(meanOf(ch));
  // Mean over chains of the autocovariance at lag t (denominator n): directly up to
  // kDirectLags, then from the FFT's table, made once when a lag past it is first needed (a
  // sticky chain: Geyer's sequence may run to thousands of lags, O(S) each when summed).
  std::vector<double> byFft;
  auto meanAcov = [&](size_t t) {
    if (t > kDirectLags) {
      if (byFft.empty()) byFft = meanAcovByFft(chains, means);
      return byFft[t];
    }
    double total = 0;
    for (size_t j = 0; j < m; ++j) {
      const auto& ch = chains[j];
      double s = 0;
      for (size_t i = 0; i + t < n; ++i)
        s += (ch[i] - means[j]) * (ch[i + t] - means[j]);
      total += s / nd;
    }
    return total / static_cast<double>(m);
  };
  const double acov0 = meanAcov(0);
  const double meanVar = acov0 * nd / (nd - 1); // W
  double varPlus = meanVar * (nd - 1) / nd;
  if (m > 1) varPlus += varOf(means);
  if (!(varPlus > 0)) return kNaN;
  auto rho = [&](size_t t) { return 1.0 - (meanVar - meanAcov(t)) / varPlus; };

  std::vector<double> r(n, 0.0);
  r[0] = 1.0;
  double even = 1.0, odd = rho(1);
  r[1] = odd;
  size_t t = 1;
  while (t + 5 < n && even + odd > 0) {
    even = rho(t + 1);
    odd = rho(t + 2);
    if (even + odd >= 0) {
      r[t + 1] = even;
      r[t + 2] = odd;
    }
    t += 2;
  }
  const size_t maxT = t;
  if (even > 0 && maxT + 1 < n) r[maxT + 1] = even;
  // Geyer's initial monotone sequence.
  for (size_t k = 1; k + 2 <= maxT; k += 2)
    if (r[k + 1] + r[k + 2] > r[k - 1] + r[k]) {
      r[k + 1] = 0.5 * (r[k - 1] + r[k]);
      r[k + 2] = r[k + 1];
    }
  const double s = static_cast<double>(m) * nd;
  double sum = 0;
  for (size_t k = 0; k <= maxT; ++k)
    sum += r[k];
  double tau = -1.0 + 2.0 * sum + (maxT + 1 < n ? r[maxT + 1] : 0.0);
  tau = std::max(tau, 1.0 / std::log10(s));
  return s / tau;
}

Expected<DrawSummary> summarizeDraws(const Chains& draws) {
  if (draws.empty()) return Error("diagnostics: no chains");
  const size_t n = draws[0].size();
  for (size_t j = 0; j < draws.size(); ++j) {
    if (draws[j].size() != n)
      return Error("diagnostics: chain " + std::to_string(j) + " has " +
                   std::to_string(draws[j].size()) + " draws, chain 0 has " + std::to_string(n));
    for (double x : draws[j])
      if (!std::isfinite(x))
        return Error("diagnostics: chain " + std::to_string(j) + " has a non-finite draw");
  }
  if (n < 4) return Error("diagnostics: chains need at least 4 draws, got " + std::to_string(n));

  DrawSummary d;
  const std::vector<double> all = pooled(draws);
  d.mean = meanOf(all);
  d.sd = std::sqrt(varOf(all));
  const std::vector<double> q = quantiles7(all, {0.05, 0.5, 0.95});
  d.q5 = q[0];
  d.q50 = q[1];
  d.q95 = q[2];

  const Chains split = splitChains(draws);
  const Chains ranked = rankNormalize(split);
  d.rhatBulk = rhatBasic(ranked);
  const double med = d.q50;
  d.rhatTail =
      rhatBasic(rankNormalize(mapDraws(split, [&](double x) { return std::abs(x - med); })));
  d.rhat =
      std::isnan(d.rhatBulk) || std::isnan(d.rhatTail) ? kNaN : std::max(d.rhatBulk, d.rhatTail);
  d.essBulk = essBasic(ranked);
  const double q5 = d.q5, q95 = d.q95;
  const double essLo = essBasic(mapDraws(split, [&](double x) { return x <= q5 ? 1.0 : 0.0; }));
  const double essHi = essBasic(mapDraws(split, [&](double x) { return x <= q95 ? 1.0 : 0.0; }));
  d.essTail = std::isnan(essLo) || std::isnan(essHi) ? kNaN : std::min(essLo, essHi);
  d.essMean = essBasic(split);
  d.mcseMean = d.sd / std::sqrt(d.essMean);
  return d;
}

} // namespace chassis::symbolic
