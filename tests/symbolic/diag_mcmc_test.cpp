// MCMC diagnostics: hand-computed R-hat and quantiles, i.i.d. chains (R-hat ~ 1, ESS ~ N),
// AR(1) chains (ESS ~ N (1 - rho) / (1 + rho)), chains with different means (R-hat > 1.1),
// rank normalisation, and input errors.
#include "symbolic/diagnostics.h"

#include "spec/rng.h"
#include "symbolic/special.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace chassis::symbolic;
using chassis::Rng;

namespace {

Chains ar1(int chains, int n, double rho, double mean, uint64_t seed) {
  Chains c;
  Rng base(seed);
  const double innov = std::sqrt(1 - rho * rho); // stationary variance 1
  for (int j = 0; j < chains; ++j) {
    Rng r = base.split(j);
    std::vector<double> ch(n);
    double x = r.normal(); // start in the stationary distribution
    for (int i = 0; i < n; ++i) {
      ch[i] = mean + x;
      x = rho * x + innov * r.normal();
    }
    c.push_back(std::move(ch));
  }
  return c;
}

} // namespace

TEST_CASE("diag: hand values", "[diag]") {
  // Chains {1,2,3,4} and {2,3,4,5}: W = 5/3, B/n = var(2.5, 3.5) = 0.5,
  // var+ = 3/4 * 5/3 + 0.5 = 1.75, R = sqrt(1.75 / (5/3)) = sqrt(1.05).
  CHECK(rhatBasic({{1, 2, 3, 4}, {2, 3, 4, 5}}) == Approx(std::sqrt(1.05)).epsilon(1e-14));
  // Type-7 quantiles of 1..10: h = 9p.
  std::vector<double> xs = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  CHECK(quantile7(xs, 0.05) == Approx(1.45).epsilon(1e-14));
  CHECK(quantile7(xs, 0.5) == Approx(5.5).epsilon(1e-14));
  CHECK(quantile7(xs, 0.95) == Approx(9.55).epsilon(1e-14));
  CHECK(quantile7(xs, 0) == 1);
  CHECK(quantile7(xs, 1) == 10);
  CHECK(quantile7({3, 1, 2, 100}, 0.25) == Approx(1.75).epsilon(1e-14));
  // Several quantiles from one sort: each is quantile7's, bit for bit.
  const std::vector<double> qs = quantiles7(xs, {0.05, 0.5, 0.95, 0, 1, 0.3});
  REQUIRE(qs.size() == 6);
  CHECK(qs[0] == quantile7(xs, 0.05));
  CHECK(qs[1] == quantile7(xs, 0.5));
  CHECK(qs[2] == quantile7(xs, 0.95));
  CHECK(qs[3] == 1);
  CHECK(qs[4] == 10);
  CHECK(qs[5] == quantile7(xs, 0.3));
  CHECK(std::isnan(quantiles7({}, {0.5})[0]));
  // Splitting: odd lengths drop the middle draw.
  Chains s = splitChains({{1, 2, 3, 4, 5}});
  REQUIRE(s.size() == 2);
  CHECK(s[0] == std::vector<double>{1, 2});
  CHECK(s[1] == std::vector<double>{4, 5});
  // Rank normalisation: ties share the average rank; z = Phi^-1((r - 3/8) / (S + 1/4)).
  Chains z = rankNormalize({{10, 30}, {20, 20}});
  CHECK(z[0][0] == Approx(normalQuantile((1 - 0.375) / 4.25)).epsilon(1e-14));
  CHECK(z[1][0] == Approx(normalQuantile((2.5 - 0.375) / 4.25)).epsilon(1e-14));
  CHECK(z[1][0] == z[1][1]);
  CHECK(z[0][1] == Approx(normalQuantile((4 - 0.375) / 4.25)).epsilon(1e-14));
  // Phi^-1 against known values.
  CHECK(normalQuantile(0.975) == Approx(1.959963984540054).epsilon(1e-15));
  CHECK(normalQuantile(1e-10) == Approx(-6.361340902404056).epsilon(1e-14));
  CHECK(normalQuantile(0.5) == 0);
}

TEST_CASE("diag: i.i.d. normal chains", "[diag]") {
  const int m = 4, n = 2000;
  Chains c = ar1(m, n, 0.0, 3.0, 11);
  auto d = summarizeDraws(c);
  REQUIRE(d);
  CHECK(std::abs(d->rhat - 1) < 0.01);
  CHECK(std::abs(d->essBulk / (m * n) - 1) < 0.15);
  CHECK(std::abs(d->essMean / (m * n) - 1) < 0.15);
  CHECK(std::abs(d->essTail / (m * n) - 1) < 0.25);
  CHECK(std::abs(d->mean - 3) < 5 / std::sqrt(double(m * n)));
  CHECK(std::abs(d->sd - 1) < 0.05);
  CHECK(std::abs(d->mcseMean - 1 / std::sqrt(double(m * n))) < 0.15 / std::sqrt(double(m * n)));
  CHECK(std::abs(d->q50 - 3) < 0.05);
  CHECK(std::abs(d->q5 - (3 - 1.6448536269514722)) < 0.06);
  CHECK(std::abs(d->q95 - (3 + 1.6448536269514722)) < 0.06);
}

TEST_CASE("diag: AR(1) chains have the theoretical ESS", "[diag]") {
  for (double rho : {0.5, 0.9}) {
    const int m = 4, n = 20000;
    Chains c = ar1(m, n, rho, 0.0, 1234 + uint64_t(rho * 10));
    auto d = summarizeDraws(c);
    REQUIRE(d);
    const double theory = m * n * (1 - rho) / (1 + rho);
    INFO("rho = " << rho << ", theoretical ESS " << theory << ", bulk " << d->essBulk << ", mean "
                  << d->essMean);
    CHECK(std::abs(d->essBulk / theory - 1) < 0.15);
    CHECK(std::abs(d->essMean / theory - 1) < 0.15);
    CHECK(std::abs(d->rhat - 1) < 0.01);
    // MCSE of the mean is sd / sqrt(ESS): about sqrt((1 + rho) / (1 - rho) / (m n)).
    CHECK(std::abs(d->mcseMean / std::sqrt(1 / theory) - 1) < 0.1);
  }
}

TEST_CASE("diag: ESS of a sticky chain, its long lags by FFT, matches the lag-by-lag sums",
          "[diag]") {
  // rho = 0.99: Geyer's sequence runs to a few hundred lags, past the first 64 summed directly
  // (the rest come from an FFT per chain). Reference: the definition, every lag summed.
  const double rho = 0.99;
  const Chains c = ar1(3, 6000, rho, 2.0, 77);
  auto reference = [](const Chains& ch) {
    const size_t m = ch.size(), n = ch[0].size();
    std::vector<double> means;
    for (const auto& x : ch) {
      double s = 0;
      for (double v : x) s += v;
      means.push_back(s / double(n));
    }
    auto acov = [&](size_t t) {
      double total = 0;
      for (size_t j = 0; j < m; ++j) {
        double s = 0;
        for (size_t i = 0; i + t < n; ++i) s += (ch[j][i] - means[j]) * (ch[j][i + t] - means[j]);
        total += s / double(n);
      }
      return total / double(m);
    };
    double mm = 0, vm = 0;
    for (double v : means) mm += v / double(m);
    for (double v : means) vm += (v - mm) * (v - mm) / double(m - 1);
    const double w = acov(0) * double(n) / double(n - 1);
    const double varPlus = w * double(n - 1) / double(n) + (m > 1 ? vm : 0.0);
    auto r = [&](size_t t) { return 1 - (w - acov(t)) / varPlus; };
    std::vector<double> rr(n, 0.0);
    rr[0] = 1;
    double even = 1, odd = r(1);
    rr[1] = odd;
    size_t t = 1;
    while (t + 5 < n && even + odd > 0) {
      even = r(t + 1);
      odd = r(t + 2);
      if (even + odd >= 0) {
        rr[t + 1] = even;
        rr[t + 2] = odd;
      }
      t += 2;
    }
    if (even > 0 && t + 1 < n) rr[t + 1] = even;
    for (size_t k = 1; k + 2 <= t; k += 2)
      if (rr[k + 1] + rr[k + 2] > rr[k - 1] + rr[k]) rr[k + 1] = rr[k + 2] = 0.5 * (rr[k - 1] + rr[k]);
    double sum = 0;
    for (size_t k = 0; k <= t; ++k) sum += rr[k];
    const double s = double(m * n);
    const double tau = std::max(-1 + 2 * sum + (t + 1 < n ? rr[t + 1] : 0.0), 1 / std::log10(s));
    return std::pair{s / tau, t};
  };
  const Chains split = splitChains(c);
  const auto [refEss, lags] = reference(split);
  INFO("lags used " << lags << ", reference ESS " << refEss);
  REQUIRE(lags > 64); // the FFT part is exercised
  CHECK(essBasic(split) == Approx(refEss).epsilon(1e-9));
  const Chains ranked = rankNormalize(split);
  CHECK(essBasic(ranked) == Approx(reference(ranked).first).epsilon(1e-9));
}

TEST_CASE("diag: chains with different means have a large R-hat", "[diag]") {
  Chains c = ar1(4, 1000, 0.3, 0.0, 5);
  for (double& x : c[3])
    x += 1.0;
  auto d = summarizeDraws(c);
  REQUIRE(d);
  CHECK(d->rhat > 1.1);
  CHECK(d->rhatBulk > 1.1);
  // A chain that drifts (first half vs second half) is caught by splitting, even with one chain.
  Chains drift = ar1(1, 2000, 0.3, 0.0, 6);
  for (size_t i = 1000; i < 2000; ++i)
    drift[0][i] += 1.5;
  auto dd = summarizeDraws(drift);
  REQUIRE(dd);
  CHECK(dd->rhat > 1.1);
  // Same location, different scales: the folded (tail) R-hat sees it.
  Chains scale = ar1(4, 1000, 0.0, 0.0, 7);
  for (double& x : scale[0])
    x *= 4;
  auto ds = summarizeDraws(scale);
  REQUIRE(ds);
  CHECK(ds->rhatTail > 1.1);
  CHECK(ds->rhat == ds->rhatTail);
}

TEST_CASE("diag: input errors and degenerate draws", "[diag]") {
  CHECK(!summarizeDraws({}));
  auto uneven = summarizeDraws({{1, 2, 3, 4}, {1, 2, 3}});
  REQUIRE(!uneven);
  CHECK(uneven.error().message == "diagnostics: chain 1 has 3 draws, chain 0 has 4");
  auto shortc = summarizeDraws({{1, 2, 3}});
  REQUIRE(!shortc);
  CHECK(shortc.error().message == "diagnostics: chains need at least 4 draws, got 3");
  auto nan = summarizeDraws({{1, 2, NAN, 4}});
  REQUIRE(!nan);
  CHECK(nan.error().message == "diagnostics: chain 0 has a non-finite draw");
  auto constant = summarizeDraws({{2, 2, 2, 2, 2, 2}, {2, 2, 2, 2, 2, 2}});
  REQUIRE(constant);
  CHECK(constant->mean == 2);
  CHECK(constant->sd == 0);
  CHECK(std::isnan(constant->rhat));
}
