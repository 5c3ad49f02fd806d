// Two-dimensional arrays (T[N, K]) through the back ends of the symbolic layer: the interpreter
// runs elements, rows, literals, element and row assignment and the matrix-vector product and
// checks each index of x[i, j] against its own length at run time; a matrix input binds from
// nested JSON rows; NUTS on a linear regression written with a design matrix (X * beta, and
// dot(X[n], beta) per row) matches the conjugate normal posterior computed here in closed form;
// exact inference over a matrix of discrete choices matches the posterior computed by hand, with
// the output's elements named m[i][j].
#include "tests/symbolic/compile_chs.h"
#include "tests/symbolic/nuts_draws.h"
#include "symbolic/infer_exact.h"
#include "symbolic/infer_nuts.h"
#include "symbolic/interp.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace chassis;
using namespace chassis::symbolic;
using chassis::testing::summaryOf;

namespace {

const char* kMatrixModule = R"(
module Mat(X: real[3, 2], beta: real[2], i: int, j: int) -> (mu: real[3], r: real[2], e: real,
                                                             c: real[2, 2]) {
    var Y: real[2, 2];
    Y[0, 1] = 5.0;
    Y[1] = [7, 8];
    let L = [[1, 2], [3.5, 4]];
    mu = X * beta;
    r = X[1];
    e = X[i, j] + dot(X[0], beta) + L[1, 0] + Y[0, 1];
    c = Y;
}
)";

std::vector<Value> matInputs(double i, double j) {
  return {Value::array({1, 2, 3, 4, 5, 6}), Value::array({0.5, -1}), Value::scalar(i),
          Value::scalar(j)};
}

} // namespace

TEST_CASE("matrices: the interpreter runs elements, rows, literals and X * v", "[matrix][interp]") {
  auto c = testing::compileChs(kMatrixModule, "m.chs");
  const ir::Function& f = *c.ir.findFunction("Mat");
  Rng rng(1);
  auto r = run(f, matInputs(2, 1), rng);
  INFO((r ? "" : r.error().str()));
  REQUIRE(r);
  // X = [[1, 2], [3, 4], [5, 6]], beta = [0.5, -1].
  CHECK(r->outputs[0].a == std::vector<double>{-1.5, -2.5, -3.5});
  CHECK(r->outputs[1].a == std::vector<double>{3, 4});
  CHECK(r->outputs[2].s == 6 + -1.5 + 3.5 + 5);
  CHECK(r->outputs[3].a == std::vector<double>{0, 5, 7, 8});
  CHECK(formatValue(r->outputs[3], f.outputs()[3]->type(), c.ir.ctx()) == "[[0.0, 5.0], [7.0, 8.0]]");
}

TEST_CASE("matrices: each index of x[i, j] is checked against its own length at run time",
          "[matrix][interp]") {
  auto c = testing::compileChs(kMatrixModule, "m.chs");
  const ir::Function& f = *c.ir.findFunction("Mat");
  auto err = [&](double i, double j) {
    Rng rng(1);
    auto r = run(f, matInputs(i, j), rng);
    return r ? std::string("no error") : r.error().str();
  };
  CHECK(err(3, 0) == "m.chs:10:5: error: row index 3 is out of range [0, 3)");
  CHECK(err(0, 2) == "m.chs:10:5: error: column index 2 is out of range [0, 2)");
  CHECK(err(-1, 1) == "m.chs:10:5: error: row index -1 is out of range [0, 3)");
  // Row 1, column 2 would be element 5 of the flat storage, inside [0, 6): still an error.
  CHECK(err(1, 2) == "m.chs:10:5: error: column index 2 is out of range [0, 2)");
  CHECK(err(2, 1) == "no error");
}

TEST_CASE("matrices: a run-time index error names the row or the column index, reading or "
          "writing",
          "[matrix][interp]") {
  auto c = testing::compileChs(R"(
module Write(i: int, j: int) -> (m: real[3, 5]) {
    var W: real[3, 5];
    W[i, j] = 1.0;
    m = W;
}
module RowOf(X: real[3, 5], i: int, j: int) -> (e: real) {
    let r = X[i];
    e = r[j] + X[i][j];
}
module Vector(v: real[4], k: int) -> (e: real) {
    e = v[k];
}
)",
                               "w.chs");
  auto err = [&](const char* module, std::vector<Value> in) {
    Rng rng(1);
    auto r = run(*c.ir.findFunction(module), in, rng);
    return r ? std::string("no error") : r.error().str();
  };
  const Value X = Value::array(std::vector<double>(15, 1.0));
  CHECK(err("Write", {Value::scalar(3), Value::scalar(0)}) ==
        "w.chs:4:5: error: row index 3 is out of range [0, 3)");
  CHECK(err("Write", {Value::scalar(1), Value::scalar(7)}) ==
        "w.chs:4:5: error: column index 7 is out of range [0, 5)");
  CHECK(err("Write", {Value::scalar(2), Value::scalar(4)}) == "no error");
  // A row bound to a name is a one-dimensional array: its index is not called a column.
  CHECK(err("RowOf", {X, Value::scalar(-1), Value::scalar(0)}) ==
        "w.chs:8:5: error: row index -1 is out of range [0, 3)");
  CHECK(err("RowOf", {X, Value::scalar(0), Value::scalar(5)}) ==
        "w.chs:9:5: error: index 5 is out of range [0, 5)");
  CHECK(err("Vector", {Value::array({1, 2, 3, 4}), Value::scalar(4)}) ==
        "w.chs:12:5: error: index 4 is out of range [0, 4)");
}

TEST_CASE("matrices: a matrix input binds from nested JSON rows", "[matrix][interp]") {
  auto c = testing::compileChs(kMatrixModule, "m.chs");
  const ir::Function& f = *c.ir.findFunction("Mat");
  auto b = bindJsonInputs(f, c.ir.ctx(), R"({"X": [[1, 2], [3, 4], [5, 6]]})", "d.json");
  INFO((b ? "" : b.error().str()));
  REQUIRE(b);
  REQUIRE((*b)[0]);
  CHECK((*b)[0]->a == std::vector<double>{1, 2, 3, 4, 5, 6});
  auto ragged = bindJsonInputs(f, c.ir.ctx(), R"({"X": [[1, 2], [3], [5, 6]]})", "d.json");
  REQUIRE(!ragged);
  CHECK(ragged.error().message.find("X[1]") != std::string::npos);
}

TEST_CASE("matrices: NUTS on a regression with a design matrix matches the conjugate posterior",
          "[matrix][nuts]") {
  // y ~ Normal(X b, 1) with b[k] ~ Normal(0, 10): the posterior of b is normal with precision
  // A = X'X + I / 100 and mean A^-1 X'y.
  auto c = testing::compileChs(R"(
module Product(X: real[6, 2], y: real[6]) -> () {
    var b: real[2];
    for k in 0..2 { b[k] ~ Normal(0.0, 10.0); }
    observe(Normal(X * b, 1.0), y);
}
module Rows(X: real[6, 2], y: real[6]) -> () {
    var b: real[2];
    for k in 0..2 { b[k] ~ Normal(0.0, 10.0); }
    for n in 0..6 { observe(Normal(dot(X[n], b), 1.0), y[n]); }
}
)");
  const double X[6][2] = {{1, -1.2}, {1, 0.3}, {1, 0.9}, {1, 1.7}, {1, 2.4}, {1, -0.5}};
  const double y[6] = {-1.9, 1.4, 2.1, 4.3, 5.2, 0.2};
  double a00 = 0.01, a01 = 0, a11 = 0.01, r0 = 0, r1 = 0;
  std::vector<double> flat;
  for (int n = 0; n < 6; ++n) {
    a00 += X[n][0] * X[n][0];
    a01 += X[n][0] * X[n][1];
    a11 += X[n][1] * X[n][1];
    r0 += X[n][0] * y[n];
    r1 += X[n][1] * y[n];
    flat.push_back(X[n][0]);
    flat.push_back(X[n][1]);
  }
  const double det = a00 * a11 - a01 * a01;
  const double mean0 = (a11 * r0 - a01 * r1) / det, mean1 = (a00 * r1 - a01 * r0) / det;
  const double sd0 = std::sqrt(a11 / det), sd1 = std::sqrt(a00 / det);
  for (const char* name : {"Product", "Rows"}) {
    NutsOptions opt;
    opt.seed = 11;
    opt.warmup = 1000;
    opt.samples = 2000;
    const std::vector<Value> inputs = {Value::array(flat),
                                       Value::array(std::vector<double>(y, y + 6))};
    auto r = runNuts(*c.ir.findFunction(name), inputs, opt);
    INFO(name << ": " << (r ? "" : r.error().str()));
    REQUIRE(r);
    const DrawSummary s0 = summaryOf(*r, "b[0]");
    const DrawSummary s1 = summaryOf(*r, "b[1]");
    INFO("b[0]: " << s0.mean << " (mcse " << s0.mcseMean << ", sd " << s0.sd << ") vs " << mean0
                  << " (sd " << sd0 << ")");
    INFO("b[1]: " << s1.mean << " (mcse " << s1.mcseMean << ", sd " << s1.sd << ") vs " << mean1
                  << " (sd " << sd1 << ")");
    CHECK(std::fabs(s0.mean - mean0) <= 4 * s0.mcseMean);
    CHECK(std::fabs(s1.mean - mean1) <= 4 * s1.mcseMean);
    CHECK(std::fabs(s0.sd - sd0) <= 0.1 * sd0);
    CHECK(std::fabs(s1.sd - sd1) <= 0.1 * sd1);
    CHECK(s0.rhat < 1.01);
    CHECK(r->divergences == 0);
  }
}

TEST_CASE("matrices: exact inference over a matrix of discrete choices", "[matrix][exact]") {
  auto c = testing::compileChs(R"(
module Grid() -> (on: bool[2, 2]) {
    var g: bool[2, 2];
    let p = [[0.2, 0.5], [0.7, 0.9]];
    for i in 0..2 { for j in 0..2 { g[i, j] ~ Bernoulli(p[i, j]); } }
    condition(g[0, 0] || g[1, 1]);
    on = g;
}
)");
  auto post = inferExact(*c.ir.findFunction("Grid"), {}, InferOptions{});
  INFO((post ? "" : post.error().str()));
  REQUIRE(post);
  REQUIRE(post->summaries.size() == 4);
  // P(g00 or g11) = 1 - 0.8 * 0.1; the other two cells are independent of the condition.
  const double z = 1 - 0.8 * 0.1;
  const std::vector<std::pair<std::string, double>> want = {
      {"on[0][0]", 0.2 / z}, {"on[0][1]", 0.5}, {"on[1][0]", 0.7}, {"on[1][1]", 0.9 / z}};
  for (size_t k = 0; k < want.size(); ++k) {
    INFO(post->summaries[k].name << ": " << post->summaries[k].mean);
    CHECK(post->summaries[k].name == want[k].first);
    CHECK(std::fabs(post->summaries[k].mean - want[k].second) < 1e-12);
  }
}
