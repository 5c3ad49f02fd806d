// Two-dimensional arrays (T[N, K]) in the Z3 encoder: the lowering gives the IR's T[N][K], so
// elements, rows, literals of rows and the matrix-vector product are encoded with the IR's
// existing Index, ArrayLit and Dot nodes. Each pair is a true property (`holds`) and a nearby
// false one (`violated`, with a counterexample replayed in float64), over inputs, over a
// symbolic pair of indices, and over a random matrix drawn element by element and bound by a
// tuple let (one call, one set of draws).
#include "spec/frontend.h"
#include "spec/lower.h"
#include "tests/symbolic/compile_chs.h"
#include "verifier/properties.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace chassis;
using namespace chassis::verifier;

TEST_CASE("Z3 proves and refutes properties of modules with two-dimensional arrays",
          "[properties][matrix]") {
  auto c = testing::compileChs(R"(
module Affine(x: real[2]) -> (y: real[2]) {
    let W = [[1.0, -2.0], [0.5, 3.0]];
    y = W * x;
}
module Pick(i: int in [0, 1], j: int in [0, 1]) -> (v: real) {
    let W = [[1.0, -2.0], [0.5, 3.0]];
    v = W[i, j] + W[j][i];
}
module Split() -> (lo: real, hi: real, a: real[2, 2]) {
    var m: real[2, 2];
    for i in 0..2 { for j in 0..2 { m[i, j] ~ Uniform(-1.0, 1.0); } }
    lo = min(m[0, 0], m[1, 1]);
    hi = max(m[0, 0], m[1, 1]);
    a = m;
}
module UsesSplit() -> (w: real) {
    let (lo, hi, a) = Split();
    w = hi - lo + a[0, 1];
}
property affine_row1: forall x0 in [0, 1], x1 in [0, 1]: Affine([x0, x1]).y[1] <= 3.5;
property affine_row1_false: forall x0 in [0, 1], x1 in [0, 1]: Affine([x0, x1]).y[1] <= 3.4;
property affine_row0_false: forall x0 in [0, 1], x1 in [0, 1]: Affine([x0, x1]).y[0] >= -1.0;
property pick_bound: always[Pick](v <= 6.0);
property pick_bound_false: always[Pick](v <= 3.0);
property width: always[UsesSplit](w >= -1.0);
property width_false: always[UsesSplit](w >= 0.0);
)");
  VerifyOptions o;
  o.timeoutSec = 20;
  std::map<std::string, Verdict> want = {
      {"affine_row1", Verdict::Holds},      {"affine_row1_false", Verdict::Violated},
      {"affine_row0_false", Verdict::Violated}, {"pick_bound", Verdict::Holds},
      {"pick_bound_false", Verdict::Violated},  {"width", Verdict::Holds},
      {"width_false", Verdict::Violated}};
  REQUIRE(c.ir.properties.size() == want.size());
  for (const ir::Property& prop : c.ir.properties) {
    PropertyResult r = verifyProperty(c.ir, prop, o);
    INFO(prop.name << ": " << verdictName(r.verdict) << " (" << r.reason << ")");
    CHECK(r.verdict == want.at(prop.name));
  }
}
