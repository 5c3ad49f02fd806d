// Vectorised statements over whole matrices (observe(D(...), Y) with Y: T[N, K], x ~ D(...) into
// a T[N, K]) against the nested loops written by hand: the same choice addresses, the same log
// density and gradient on the NUTS tape at every point (bit for bit), the same run of the
// interpreter; and on the tape one fused node per statement, whatever N and K.
#include "tests/symbolic/compile_chs.h"
#include "symbolic/ad.h"
#include "symbolic/interp.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

using namespace chassis;
using namespace chassis::symbolic;

namespace {

// Scalar, per-column (real[K], shared by the rows) and elementwise (real[N, K]) parameters; a
// draw into a whole matrix; an int matrix observed from a discrete and (promoted) from a
// continuous distribution.
const char* kModels = R"(
module Vectorised(Y: real[3, 4], C: int[3, 4]) -> (out: real[3, 4]) {
    mu ~ Normal(0.0, 1.0);
    sigma ~ Flat(lower = 0.0);
    var col: real[4];
    col ~ Normal(0.0, 2.0);
    observe(Normal(mu, sigma), Y);
    observe(StudentT(4.0, col, sigma), Y);
    var W: real[3, 4];
    W ~ Normal(col, [1.0, 0.5, 2.0, 1.5]);
    observe(Normal(W, sigma), Y);
    observe(Poisson(exp(col)), C);
    observe(Normal(mu, 3.0), C);
    out = W;
}
module Looped(Y: real[3, 4], C: int[3, 4]) -> (out: real[3, 4]) {
    mu ~ Normal(0.0, 1.0);
    sigma ~ Flat(lower = 0.0);
    var col: real[4];
    for j in 0..4 { col[j] ~ Normal(0.0, 2.0); }
    for i in 0..3 { for j in 0..4 { observe(Normal(mu, sigma), Y[i, j]); } }
    for i in 0..3 { for j in 0..4 { observe(StudentT(4.0, col[j], sigma), Y[i, j]); } }
    var W: real[3, 4];
    let s = [1.0, 0.5, 2.0, 1.5];
    for i in 0..3 { for j in 0..4 { W[i, j] ~ Normal(col[j], s[j]); } }
    for i in 0..3 { for j in 0..4 { observe(Normal(W[i, j], sigma), Y[i, j]); } }
    let rate = exp(col);
    for i in 0..3 { for j in 0..4 { observe(Poisson(rate[j]), C[i, j]); } }
    for i in 0..3 { for j in 0..4 { observe(Normal(mu, 3.0), C[i, j]); } }
    out = W;
}
)";

std::vector<Value> inputs() {
  return {Value::array({0.5, 1.0, -0.2, 2.1, 1.4, 0.3, 0.9, -1.3, 0.0, 0.7, 1.8, -0.4}),
          Value::array({0, 2, 1, 4, 3, 0, 1, 2, 1, 1, 5, 0})};
}

/// A model observing an N x K matrix twice (a shared and a per-column mean).
std::string sized(int n, int k) {
  std::string s = R"(
module M(Y: real[NN, KK]) -> () {
    mu ~ Normal(0.0, 1.0);
    sigma ~ Flat(lower = 0.0);
    var col: real[KK];
    col ~ Normal(0.0, 2.0);
    observe(Normal(mu, sigma), Y);
    observe(Normal(col, sigma), Y);
}
)";
  for (auto [from, to] : {std::pair<std::string, int>{"NN", n}, {"KK", k}})
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from))
      s.replace(p, from.size(), std::to_string(to));
  return s;
}

} // namespace

TEST_CASE("matrix vectorised statements: the same log density and gradient as nested loops",
          "[vectorised][matrix][ad]") {
  auto c = testing::compileChs(kModels);
  for (bool fuse : {true, false}) {
    INFO("fuse " << fuse);
    LogDensityTape vec(*c.ir.findFunction("Vectorised"), inputs(), fuse);
    LogDensityTape loop(*c.ir.findFunction("Looped"), inputs(), fuse);
    Rng r1(5), r2(5);
    REQUIRE(vec.initialize(r1));
    REQUIRE(loop.initialize(r2));
    REQUIRE(vec.dimension() == 2 + 4 + 12);
    REQUIRE(loop.dimension() == vec.dimension());
    CHECK(vec.addresses() == loop.addresses());
    CHECK(vec.addresses().back() == "W[2][3]");
    Rng pts(17);
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<double> u(vec.dimension());
      for (double& v : u)
        v = -2 + 4 * pts.uniform();
      std::vector<double> g1(u.size()), g2(u.size());
      auto l1 = vec.logDensity(u, g1);
      auto l2 = loop.logDensity(u, g2);
      REQUIRE(l1);
      REQUIRE(l2);
      REQUIRE(std::isfinite(*l1));
      CHECK(*l1 == *l2);
      CHECK(g1 == g2);
      std::vector<double> o1(12), o2(12);
      vec.readOutputs(o1);
      loop.readOutputs(o2);
      CHECK(o1 == o2);
    }
  }
}

TEST_CASE("matrix vectorised statements: one fused node per observe, whatever N and K",
          "[vectorised][matrix][ad]") {
  size_t fusedSizes[2], loopedSizes[2];
  const int dims[2][2] = {{3, 4}, {20, 15}};
  for (int s = 0; s < 2; ++s) {
    const int n = dims[s][0], k = dims[s][1];
    auto c = testing::compileChs(sized(n, k));
    std::vector<double> y;
    for (int e = 0; e < n * k; ++e)
      y.push_back(std::sin(0.7 * e));
    LogDensityTape fused(*c.ir.findFunction("M"), {Value::array(y)});
    LogDensityTape looped(*c.ir.findFunction("M"), {Value::array(y)}, /*fuse=*/false);
    Rng r1(4), r2(4);
    REQUIRE(fused.initialize(r1));
    REQUIRE(looped.initialize(r2));
    fusedSizes[s] = fused.tapeSize();
    loopedSizes[s] = looped.tapeSize();
    // The fused tape computes what the per-element tape does.
    std::vector<double> u(fused.dimension(), 0.3), g1(u.size()), g2(u.size());
    auto l1 = fused.logDensity(u, g1);
    auto l2 = looped.logDensity(u, g2);
    REQUIRE(l1);
    REQUIRE(l2);
    CHECK(*l1 == Approx(*l2).epsilon(1e-12));
    for (size_t d = 0; d < u.size(); ++d)
      CHECK(g1[d] == Approx(g2[d]).epsilon(1e-12).margin(1e-12));
  }
  CHECK(fusedSizes[0] == fusedSizes[1]);
  CHECK(loopedSizes[1] > loopedSizes[0] + 2 * (300 - 12) - 1);
}

TEST_CASE("matrix vectorised statements: the interpreter gives the same run as nested loops",
          "[vectorised][matrix][interp]") {
  auto c = testing::compileChs(R"(
module Vectorised(Y: real[2, 3]) -> (xo: real[2, 3], bo: bool[2, 2]) {
    mu ~ Normal(0.0, 1.0);
    var x: real[2, 3];
    x ~ Normal(mu, [[1.0, 2.0, 3.0], [0.5, 1.5, 2.5]]);
    observe(Normal(x, 1.0), Y);
    var b: bool[2, 2];
    b ~ Bernoulli(0.3);
    xo = x;
    bo = b;
}
module Looped(Y: real[2, 3]) -> (xo: real[2, 3], bo: bool[2, 2]) {
    mu ~ Normal(0.0, 1.0);
    let s = [[1.0, 2.0, 3.0], [0.5, 1.5, 2.5]];
    var x: real[2, 3];
    for i in 0..2 { for j in 0..3 { x[i, j] ~ Normal(mu, s[i, j]); } }
    for i in 0..2 { for j in 0..3 { observe(Normal(x[i, j], 1.0), Y[i, j]); } }
    var b: bool[2, 2];
    for i in 0..2 { for j in 0..2 { b[i, j] ~ Bernoulli(0.3); } }
    xo = x;
    bo = b;
}
)");
  const std::vector<Value> in = {Value::array({0.3, -1.0, 2.0, 0.5, 0.1, -0.7})};
  RunOptions o;
  o.recordChoices = true;
  for (uint64_t seed : {1u, 2u, 3u}) {
    Rng r1(seed), r2(seed);
    auto a = run(*c.ir.findFunction("Vectorised"), in, r1, o);
    auto b = run(*c.ir.findFunction("Looped"), in, r2, o);
    INFO((a ? "" : a.error().str()) << (b ? "" : b.error().str()));
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->outputs[0].a == b->outputs[0].a);
    CHECK(a->outputs[1].a == b->outputs[1].a);
    CHECK(a->trace.logPrior == b->trace.logPrior);
    CHECK(a->trace.logLikelihood == b->trace.logLikelihood);
    REQUIRE(a->trace.choices.size() == 11);
    REQUIRE(b->trace.choices.size() == 11);
    for (size_t k = 0; k < 11; ++k)
      CHECK(a->trace.choices[k].address == b->trace.choices[k].address);
    CHECK(a->trace.choices[6].address == "x[1][2]");
  }
}
