// Vectorised statements (observe(D(...), ys) over an array, x ~ D(...) into a whole array) against
// the loops written by hand: the same choice addresses, the same log density and gradient on
// the NUTS tape at every point (bit for bit), and the same run of the interpreter.
#include "tests/symbolic/compile_chs.h"
#include "symbolic/ad.h"
#include "symbolic/interp.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace chassis;
using namespace chassis::symbolic;

namespace {

const char* kModels = R"(
module Vectorised(x: real[5], y: real[5], k: int[5]) -> (beta: real[3]) {
    alpha ~ Normal(0.0, 10.0);
    sigma ~ Flat(lower = 0.0);
    tau ~ HalfCauchy(2.0);
    var mu: real[5];
    for i in 0..5 {
        mu[i] = alpha + 0.7 * x[i];
    }
    observe(Normal(mu, sigma), y);
    observe(StudentT(4.0, alpha, [1.0, 2.0, 1.5, 0.5, 3.0]), y);
    observe(Poisson(exp(mu)), k);
    beta ~ Normal([0.0, 1.0, -1.0], tau);
    observe(Normal(beta, 1.0), [0.5, 0.1, -0.2]);
}
module Looped(x: real[5], y: real[5], k: int[5]) -> (beta: real[3]) {
    alpha ~ Normal(0.0, 10.0);
    sigma ~ Flat(lower = 0.0);
    tau ~ HalfCauchy(2.0);
    var mu: real[5];
    for i in 0..5 {
        mu[i] = alpha + 0.7 * x[i];
    }
    for i in 0..5 {
        observe(Normal(mu[i], sigma), y[i]);
    }
    let s = [1.0, 2.0, 1.5, 0.5, 3.0];
    for i in 0..5 {
        observe(StudentT(4.0, alpha, s[i]), y[i]);
    }
    let rate = exp(mu);
    for i in 0..5 {
        observe(Poisson(rate[i]), k[i]);
    }
    let m = [0.0, 1.0, -1.0];
    for i in 0..3 {
        beta[i] ~ Normal(m[i], tau);
    }
    let obs = [0.5, 0.1, -0.2];
    for i in 0..3 {
        observe(Normal(beta[i], 1.0), obs[i]);
    }
}
)";

std::vector<Value> inputs() {
  return {Value::array({0.1, -0.4, 1.3, 0.8, 2.0}), Value::array({1.0, 0.2, 2.5, 1.1, 3.0}),
          Value::array({1, 0, 4, 2, 7})};
}

} // namespace

TEST_CASE("vectorised statements: the same log density and gradient as the loops",
          "[vectorised][ad]") {
  auto c = testing::compileChs(kModels);
  LogDensityTape vec(*c.ir.findFunction("Vectorised"), inputs());
  LogDensityTape loop(*c.ir.findFunction("Looped"), inputs());
  Rng r1(5), r2(5);
  auto u1 = vec.initialize(r1);
  auto u2 = loop.initialize(r2);
  REQUIRE(u1);
  REQUIRE(u2);
  REQUIRE(vec.dimension() == 6);
  REQUIRE(loop.dimension() == vec.dimension());
  CHECK(vec.addresses() == loop.addresses());
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
  }
}

TEST_CASE("vectorised statements: the interpreter gives the same run as the loops",
          "[vectorised][interp]") {
  auto c = testing::compileChs(R"(
module Vectorised(y: real[4]) -> (x: real[4]) {
    mu ~ Normal(0.0, 1.0);
    x ~ Normal(mu, [1.0, 2.0, 3.0, 4.0]);
    observe(Normal(x, 1.0), y);
}
module Looped(y: real[4]) -> (x: real[4]) {
    mu ~ Normal(0.0, 1.0);
    let s = [1.0, 2.0, 3.0, 4.0];
    for i in 0..4 {
        x[i] ~ Normal(mu, s[i]);
    }
    for i in 0..4 {
        observe(Normal(x[i], 1.0), y[i]);
    }
}
)");
  const std::vector<Value> in = {Value::array({0.3, -1.0, 2.0, 0.5})};
  RunOptions o;
  o.recordChoices = true;
  for (uint64_t seed : {1u, 2u, 3u}) {
    Rng r1(seed), r2(seed);
    auto a = run(*c.ir.findFunction("Vectorised"), in, r1, o);
    auto b = run(*c.ir.findFunction("Looped"), in, r2, o);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->outputs[0].a == b->outputs[0].a);
    CHECK(a->trace.logPrior == b->trace.logPrior);
    CHECK(a->trace.logLikelihood == b->trace.logLikelihood);
    REQUIRE(a->trace.choices.size() == 5);
    REQUIRE(b->trace.choices.size() == 5);
    for (size_t k = 0; k < 5; ++k)
      CHECK(a->trace.choices[k].address == b->trace.choices[k].address);
  }
}
