// Constrained rows of a matrix (Stan's array[N] simplex[K] and array[N] ordered[K]): `X ~
// Flat(simplex)` with X : real[N, K], and the row form `X[i] ~ Flat(simplex)` in the loop over the
// rows. Against each other and against the per-row loops written by hand with scalar flat
// priors: the same choice addresses (but for the hand-written ordered row's second statement,
// named c#2), log density, gradient and outputs on the NUTS tape (the hand-written simplex has no centring offset, so it is evaluated at the shifted point u - log(K -
// 1 - k), where the transforms give the same simplex); and NUTS' draws are valid (every row of a
// simplex matrix sums to 1, every row of an ordered one increases) and match the closed-form
// posteriors row by row (Dirichlet from categorical counts, order statistics of Normals).
#include "tests/symbolic/compile_chs.h"
#include "tests/symbolic/nuts_draws.h"
#include "symbolic/ad.h"
#include "symbolic/diagnostics.h"
#include "symbolic/infer_nuts.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace chassis;
using namespace chassis::symbolic;
using chassis::testing::summaryOf;

namespace {

// A 3 x 4 simplex matrix and a 2 x 3 ordered one, observed through every element (the last
// element of a simplex row is 1 minus the others), written three ways.
const char* kModels = R"(
module Whole(y: real[3]) -> (wo: real[3, 4], co: real[2, 3]) {
    var w: real[3, 4];
    w ~ Flat(simplex);
    var c: real[2, 3];
    c ~ Flat(ordered);
    for i in 0..3 {
        observe(Normal(w[i, 0] + 2.0 * w[i, 1] - w[i, 3] + c[i % 2, i], 0.5), y[i]);
    }
    for i in 0..2 {
        for k in 0..3 {
            observe(Normal(c[i, k], 1.0 + w[k, 2]), 0.5 * k - i);
        }
    }
    wo = w;
    co = c;
}
module Rows(y: real[3]) -> (wo: real[3, 4], co: real[2, 3]) {
    var w: real[3, 4];
    for i in 0..3 {
        w[i] ~ Flat(simplex);
    }
    var c: real[2, 3];
    for i in 0..2 {
        c[i] ~ Flat(ordered);
    }
    for i in 0..3 {
        observe(Normal(w[i, 0] + 2.0 * w[i, 1] - w[i, 3] + c[i % 2, i], 0.5), y[i]);
    }
    for i in 0..2 {
        for k in 0..3 {
            observe(Normal(c[i, k], 1.0 + w[k, 2]), 0.5 * k - i);
        }
    }
    wo = w;
    co = c;
}
module Looped(y: real[3]) -> (wo: real[3, 4], co: real[2, 3]) {
    var w: real[3, 4];
    for i in 0..3 {
        var rest: real = 1.0;
        for k in 0..3 {
            w[i, k] ~ Flat(lower = 0.0, upper = rest);
            rest = rest - w[i, k];
        }
        w[i, 3] = rest;
    }
    var c: real[2, 3];
    for i in 0..2 {
        c[i, 0] ~ Flat();
        for k in 1..3 {
            c[i, k] ~ Flat(lower = c[i, k - 1]);
        }
    }
    for i in 0..3 {
        observe(Normal(w[i, 0] + 2.0 * w[i, 1] - w[i, 3] + c[i % 2, i], 0.5), y[i]);
    }
    for i in 0..2 {
        for k in 0..3 {
            observe(Normal(c[i, k], 1.0 + w[k, 2]), 0.5 * k - i);
        }
    }
    wo = w;
    co = c;
}
)";

const std::vector<Value> kInputs = {Value::array({0.4, -0.3, 1.2})};

} // namespace

TEST_CASE("constrained rows: the whole-matrix, row and hand-written forms have the same "
          "addresses, log density and gradient",
          "[constrained][matrix][ad]") {
  auto c = testing::compileChs(kModels);
  for (bool fuse : {true, false}) {
    INFO("fuse " << fuse);
    LogDensityTape whole(*c.ir.findFunction("Whole"), kInputs, fuse);
    LogDensityTape rows(*c.ir.findFunction("Rows"), kInputs, fuse);
    LogDensityTape looped(*c.ir.findFunction("Looped"), kInputs, fuse);
    Rng r1(3), r2(3), r3(3);
    REQUIRE(whole.initialize(r1));
    REQUIRE(rows.initialize(r2));
    REQUIRE(looped.initialize(r3));
    // 3 rows of 3 free simplex coordinates, then 2 rows of 3 ordered ones.
    REQUIRE(whole.dimension() == 3 * 3 + 2 * 3);
    REQUIRE(rows.dimension() == whole.dimension());
    REQUIRE(looped.dimension() == whole.dimension());
    CHECK(whole.addresses() == rows.addresses());
    // The hand-written ordered row is two sample statements, the second named c#2 (a second
    // statement drawing into c): the same addresses otherwise.
    std::vector<std::string> hand = looped.addresses();
    for (std::string& a : hand)
      if (a.rfind("c#2[", 0) == 0) a = "c" + a.substr(3);
    CHECK(whole.addresses() == hand);
    CHECK(whole.addresses()[3] == "w[1][0]");
    CHECK(whole.addresses()[8] == "w[2][2]");
    CHECK(whole.addresses().back() == "c[1][2]");
    Rng pts(23);
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<double> u(whole.dimension());
      for (double& v : u)
        v = -2 + 4 * pts.uniform();
      // The hand-written simplex without Stan's centring offset: the same simplex at u - log(3 - k).
      std::vector<double> shifted = u;
      for (int i = 0; i < 3; ++i)
        for (int k = 0; k < 3; ++k)
          shifted[size_t(3 * i + k)] = u[size_t(3 * i + k)] - std::log(double(3 - k));
      std::vector<double> g1(u.size()), g2(u.size()), g3(u.size());
      auto l1 = whole.logDensity(u, g1);
      auto l2 = rows.logDensity(u, g2);
      auto l3 = looped.logDensity(shifted, g3);
      REQUIRE(l1);
      REQUIRE(l2);
      REQUIRE(l3);
      REQUIRE(std::isfinite(*l1));
      CHECK(*l1 == *l2);
      CHECK(g1 == g2);
      CHECK(*l1 == Approx(*l3).epsilon(1e-13));
      for (size_t d = 0; d < u.size(); ++d)
        CHECK(g1[d] == Approx(g3[d]).epsilon(1e-12).margin(1e-12));
      std::vector<double> o1(18), o2(18), o3(18);
      whole.readOutputs(o1);
      rows.readOutputs(o2);
      looped.readOutputs(o3);
      CHECK(o1 == o2);
      for (size_t d = 0; d < o1.size(); ++d)
        CHECK(o1[d] == Approx(o3[d]).epsilon(1e-14).margin(1e-15));
      // Every row a simplex / increasing.
      for (int i = 0; i < 3; ++i) {
        double s = 0;
        for (int k = 0; k < 4; ++k) {
          CHECK(o1[size_t(4 * i + k)] >= 0);
          s += o1[size_t(4 * i + k)];
        }
        CHECK(s == Approx(1.0).epsilon(1e-14));
      }
      for (int i = 0; i < 2; ++i)
        for (int k = 1; k < 3; ++k)
          CHECK(o1[size_t(12 + 3 * i + k)] > o1[size_t(12 + 3 * i + k - 1)]);
    }
  }
}

TEST_CASE("constrained rows: NUTS draws valid rows with each row's closed-form posterior",
          "[constrained][matrix][nuts]") {
  // Row i of theta is the distribution of the next state from state i; transitions counted from
  // y: from state 0 (5, 3, 2) and from state 1 (1, 2, 6) give the posteriors Dirichlet(6, 4, 3)
  // and Dirichlet(2, 3, 7) (a flat prior on a simplex is Dirichlet(1, 1, 1)). c's rows are flat
  // on c0 <= c1 <= c2 with Normal(c[i, k] - 2 i, 1) observations at 0: the order statistics of
  // three independent N(2 i, 1), means 2 i -+ 3 / (2 sqrt(pi)) and 2 i.
  auto c = testing::compileChs(R"(
module Rows(from: int[19], to: int[19]) -> (theta: real[2, 3], c: real[2, 3]) {
    theta ~ Flat(simplex);
    for t in 0..19 {
        observe(Categorical(theta[from[t]]), to[t]);
    }
    for i in 0..2 {
        c[i] ~ Flat(ordered);
    }
    for i in 0..2 {
        for k in 0..3 {
            observe(Normal(c[i, k] - 2.0 * i, 1.0), 0.0);
        }
    }
}
)");
  std::vector<Value> in = {
      Value::array({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1}),
      Value::array({0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 0, 1, 1, 2, 2, 2, 2, 2, 2})};
  NutsOptions opt;
  opt.seed = 7;
  opt.targetAccept = 0.95; // the ordered gaps' funnel (constrained_arrays_test.cpp)
  opt.samples = 2000;
  auto r = runNuts(*c.ir.findFunction("Rows"), in, opt);
  INFO((r ? "" : r.error().str()));
  REQUIRE(r);
  CHECK(r->divergences == 0);
  const double a[2][3] = {{6, 4, 3}, {2, 3, 7}};
  for (int i = 0; i < 2; ++i) {
    const double total = a[i][0] + a[i][1] + a[i][2];
    for (int k = 0; k < 3; ++k) {
      const std::string name = "theta[" + std::to_string(i) + "][" + std::to_string(k) + "]";
      DrawSummary s = summaryOf(*r, name);
      const double mean = a[i][k] / total;
      const double sd = std::sqrt(a[i][k] * (total - a[i][k]) / (total * total * (total + 1)));
      INFO(name << ": mean " << s.mean << " (mcse " << s.mcseMean << ") vs " << mean << "; sd "
                << s.sd << " vs " << sd);
      CHECK(std::fabs(s.mean - mean) <= 4 * s.mcseMean);
      CHECK(std::fabs(s.sd - sd) <= 0.1 * sd);
      CHECK(s.rhat < 1.01);
    }
    const double m = 3 / (2 * std::sqrt(M_PI));
    const double means[3] = {2 * i - m, 2.0 * i, 2 * i + m};
    for (int k = 0; k < 3; ++k) {
      const std::string name = "c[" + std::to_string(i) + "][" + std::to_string(k) + "]";
      DrawSummary s = summaryOf(*r, name);
      INFO(name << ": mean " << s.mean << " (mcse " << s.mcseMean << ") vs " << means[k]);
      CHECK(std::fabs(s.mean - means[k]) <= 4 * s.mcseMean);
      CHECK(s.rhat < 1.01);
    }
  }
  // Every draw: each theta row on the simplex (its last element, not a choice, read from the
  // output), each c row increasing.
  auto chainsOf = [&](const std::string& name) {
    const int q = r->find(name);
    INFO(name);
    REQUIRE(q >= 0);
    return r->chainsOf(size_t(q));
  };
  size_t draws = 0, offSimplex = 0, unordered = 0;
  for (int i = 0; i < 2; ++i) {
    std::vector<Chains> t, cs;
    for (int k = 0; k < 3; ++k) {
      t.push_back(chainsOf("theta[" + std::to_string(i) + "][" + std::to_string(k) + "]"));
      cs.push_back(chainsOf("c[" + std::to_string(i) + "][" + std::to_string(k) + "]"));
    }
    for (size_t ch = 0; ch < t[0].size(); ++ch)
      for (size_t d = 0; d < t[0][ch].size(); ++d, ++draws) {
        const double x0 = t[0][ch][d], x1 = t[1][ch][d], x2 = t[2][ch][d];
        offSimplex += !(x0 > 0 && x1 > 0 && x2 >= 0 && std::fabs(x0 + x1 + x2 - 1) < 1e-12);
        unordered += !(cs[0][ch][d] < cs[1][ch][d] && cs[1][ch][d] < cs[2][ch][d]);
      }
  }
  CHECK(draws == 2 * 4 * 2000);
  CHECK(offSimplex == 0);
  CHECK(unordered == 0);
}
