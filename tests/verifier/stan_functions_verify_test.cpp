// The Stan-style functions (square, pow, fabs, log_sum_exp, log_mix, lpdf) in the Z3 encoder:
// lowering writes them with the IR's operators, so the encoder's enclosures of exp and log
// apply. Each pair below is a true property (proved: `holds`) and a nearby false one (refuted
// with a counterexample replayed in float64: `violated`), so the encoding is neither vacuous nor
// unsound on these functions (the true bounds keep a little slack where they are exact, e.g.
// log_mix(t, a, a) = a, since the enclosures of exp and log are intervals, not exact); and a tuple let calling a random module once is verified through
// `always`.
#include "spec/frontend.h"
#include "spec/lower.h"
#include "tests/symbolic/compile_chs.h"
#include "verifier/properties.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace chassis;
using namespace chassis::verifier;

namespace {

std::map<std::string, PropertyResult> verifyAll(const ir::Program& p) {
  VerifyOptions o;
  o.timeoutSec = 20;
  std::map<std::string, PropertyResult> r;
  for (const ir::Property& prop : p.properties)
    r[prop.name] = verifyProperty(p, prop, o);
  return r;
}

void expectVerdict(const std::map<std::string, PropertyResult>& rs, const std::string& name,
                   Verdict want) {
  auto it = rs.find(name);
  REQUIRE(it != rs.end());
  INFO(name << ": " << verdictName(it->second.verdict) << " (" << it->second.reason << ")");
  CHECK(it->second.verdict == want);
}

} // namespace

TEST_CASE("Z3 proves and refutes properties of square, pow, fabs, log_sum_exp, log_mix, lpdf",
          "[properties][stan-functions]") {
  auto c = testing::compileChs(R"(
property square_nonneg: forall x in [-3, 3]: square(x) >= 0.0;
property square_pos: forall x in [-3, 3]: square(x) > 0.0;
property pow_cube: forall x in [-3, 3]: pow(x, 3) == x * x * x;
property pow_cube_bound: forall x in [-3, 3]: pow(x, 3) <= 26.0;
property pow_inverse: forall x in [0.5, 2]: pow(x, -1) * x == 1.0;
property pow_sqrt: forall x in [1, 4]: pow(x, 0.5) >= 0.999;
property pow_sqrt_bound: forall x in [1, 4]: pow(x, 0.5) <= 1.9;
property fabs_even: forall x in [-2, 2]: fabs(x) == fabs(-x);
property lse_above_max: forall a in [-5, 5], b in [-5, 5]: log_sum_exp(a, b) >= max(a, b);
property lse_below_max_log2: forall a in [-5, 5], b in [-5, 5]:
    log_sum_exp(a, b) <= max(a, b) + 0.6932;
property lse_below_max_06: forall a in [-5, 5], b in [-5, 5]: log_sum_exp(a, b) <= max(a, b) + 0.6;
property lse_array: forall a in [-5, 5]: log_sum_exp([a, a, 0.0]) >= a;
property mix_between: forall t in [0.1, 0.9], a in [-3, 3], b in [-3, 3]:
    log_mix(t, a, b) <= max(a, b) + 0.1 && log_mix(t, a, b) >= min(a, b) - 0.1;
property mix_above_max: forall t in [0.1, 0.9], a in [-3, 3], b in [-3, 3]:
    log_mix(t, a, b) >= max(a, b) - 1.0;
property normal_mode: forall x in [-2, 2]: lpdf(Normal(0.0, 1.0), x) <= -0.918;
property normal_mode_tight: forall x in [-2, 2]: lpdf(Normal(0.0, 1.0), x) <= -0.92;
)");
  auto rs = verifyAll(c.ir);
  expectVerdict(rs, "square_nonneg", Verdict::Holds);
  expectVerdict(rs, "square_pos", Verdict::Violated);
  expectVerdict(rs, "pow_cube", Verdict::Holds);
  expectVerdict(rs, "pow_cube_bound", Verdict::Violated);
  expectVerdict(rs, "pow_inverse", Verdict::Holds);
  expectVerdict(rs, "pow_sqrt", Verdict::Holds);
  expectVerdict(rs, "pow_sqrt_bound", Verdict::Violated);
  expectVerdict(rs, "fabs_even", Verdict::Holds);
  expectVerdict(rs, "lse_above_max", Verdict::Holds);
  expectVerdict(rs, "lse_below_max_log2", Verdict::Holds);
  expectVerdict(rs, "lse_below_max_06", Verdict::Violated);
  expectVerdict(rs, "lse_array", Verdict::Holds);
  expectVerdict(rs, "mix_between", Verdict::Holds);
  expectVerdict(rs, "mix_above_max", Verdict::Violated);
  expectVerdict(rs, "normal_mode", Verdict::Holds);
  expectVerdict(rs, "normal_mode_tight", Verdict::Violated);
}

TEST_CASE("a tuple let calls a random module once: both outputs come from the same draw",
          "[properties][stan-functions]") {
  auto c = testing::compileChs(R"(
module Pair() -> (a: real, b: real) {
    e ~ Normal(0.0, 1.0);
    a = e;
    b = e;
}
module Once() -> (w: real) {
    let (a, b) = Pair();
    w = a - b;
}
module Twice() -> (w: real) {
    w = Pair().a - Pair().b;
}
property once_equal: always[Once](w == 0.0);
property twice_equal: always[Twice](w == 0.0);
)");
  auto rs = verifyAll(c.ir);
  expectVerdict(rs, "once_equal", Verdict::Holds);
  // Two calls are two draws, so their outputs differ: the contrast that shows the one call.
  expectVerdict(rs, "twice_equal", Verdict::Violated);
}
