// The interval domain of the shared evaluator (symbolic/interval_domain.h): enclosures of single
// operations (tight where the operation is exact, outward where it rounds), the integer
// semantics of op_semantics.h on intervals, errors that hold at every point of a box located as
// the interpreter locates them, and, on random programs with random boxes, that every run of the
// interpreter at a point of the box that succeeds has its outputs inside the enclosure, that no
// point fails when the enclosure says none may, and that a box the domain rejects fails at every
// point.
#include "symbolic/interval_domain.h"

#include "spec/rng.h"
#include "symbolic/interp.h"
#include "tests/symbolic/compile_chs.h"
#include "tests/symbolic/random_program.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <string>

using namespace chassis;
using symbolic::Interval;
using symbolic::IntervalValue;

namespace {

IntervalValue box(double lo, double hi) {
  return IntervalValue::scalar({lo, hi});
}

/// The enclosure of module `name` of `src` over `inputs` (which must not fail for certain).
symbolic::IntervalResult enclose(const std::string& src, const char* name,
                                 std::vector<IntervalValue> inputs) {
  auto prog = testing::lowerChs(src);
  auto r = symbolic::evaluateIntervals(*prog->findFunction(name), inputs);
  INFO((r ? "" : r.error().str()));
  REQUIRE(r);
  return std::move(*r);
}

} // namespace

TEST_CASE("intervals: real operations enclose their results, exactly where they are exact",
          "[interval]") {
  const char* src = R"(
module Real(x: real, y: real) -> (s: real, p: real, q: real, e: real, l: real, r: real,
                                  g: real, t: real, m: real) {
    s = x + y;
    p = x * y;
    q = x / y;
    e = exp(x);
    l = log(y);
    r = sqrt(y);
    g = sigmoid(x);
    t = tanh(x);
    m = min(x, y) + max(relu(x), abs(y));
}
)";
  auto r = enclose(src, "Real", {box(1, 2), box(3, 5)});
  CHECK_FALSE(r.mayFail);
  const auto& o = r.outputs;
  CHECK(o[0].s.lo == 4); // exact sums stay exact
  CHECK(o[0].s.hi == 7);
  CHECK(o[1].s.lo == 3);
  CHECK(o[1].s.hi == 10);
  // 1/5 and 2/3 round: the bounds are the doubles just outside
  CHECK(o[2].s.lo <= 0.2);
  CHECK(o[2].s.lo >= std::nextafter(0.2, 0.0));
  CHECK(o[2].s.hi >= 2.0 / 3.0);
  CHECK(o[2].s.hi <= std::nextafter(2.0 / 3.0, 1.0));
  CHECK(o[3].s.contains(std::exp(1.0)));
  CHECK(o[3].s.contains(std::exp(2.0)));
  CHECK(o[3].s.hi - o[3].s.lo < std::exp(2.0) - std::exp(1.0) + 1e-13);
  CHECK(o[4].s.contains(std::log(3.0)));
  CHECK(o[4].s.contains(std::log(5.0)));
  CHECK(o[5].s.contains(std::sqrt(3.0)));
  CHECK(o[5].s.contains(std::sqrt(5.0)));
  CHECK(o[6].s.lo > 0.73);
  CHECK(o[6].s.hi < 0.89);
  CHECK(o[7].s.contains(std::tanh(1.0)));
  CHECK(o[7].s.contains(std::tanh(2.0)));
  CHECK(o[8].s.lo == 4); // min(x, y) = x in [1, 2]; max(relu(x), |y|) = y in [3, 5]
  CHECK(o[8].s.hi == 7);
}

TEST_CASE("intervals: integer division, remainder and the 2^53 bound as op_semantics.h says",
          "[interval]") {
  // The language's `/` is real division, so int `/` is built directly in the IR.
  ir::Program ip;
  ir::Context& cx = ip.ctx();
  ir::Function& fi = ip.addFunction("Ints", ir::FunctionKind::Module, SourceLoc{"t.chs", 1, 1});
  const ir::Var* k = fi.addInput("k", ir::Type::integer());
  const ir::Var* d = fi.addInput("d", ir::Type::integer());
  const ir::Var* q = fi.addOutput("q", ir::Type::integer());
  const ir::Var* m = fi.addOutput("m", ir::Type::integer());
  const ir::Var* big = fi.addOutput("big", ir::Type::integer());
  fi.setBody(
      {cx.stmt<ir::AssignStmt>(SourceLoc{"t.chs", 2, 5}, q, cx.binary(ir::BinOp::Div, k, d)),
       cx.stmt<ir::AssignStmt>(SourceLoc{"t.chs", 3, 5}, m, cx.binary(ir::BinOp::Mod, k, d)),
       cx.stmt<ir::AssignStmt>(SourceLoc{"t.chs", 4, 5}, big,
                               cx.binary(ir::BinOp::Mul, k, cx.intConst(int64_t(1) << 40)))});
  auto enclose = [&](std::vector<IntervalValue> in) {
    auto r = symbolic::evaluateIntervals(fi, in);
    INFO((r ? "" : r.error().str()));
    REQUIRE(r);
    return std::move(*r);
  };
  // exact on points: truncation toward zero, the dividend's sign
  auto p = enclose({box(-7, -7), box(2, 2)});
  CHECK(p.outputs[0].s.lo == -3);
  CHECK(p.outputs[0].s.hi == -3);
  CHECK(p.outputs[1].s.lo == -1);
  CHECK(p.outputs[1].s.hi == -1);
  CHECK_FALSE(p.mayFail);
  // over a box: [7, 9] / [2, 3] = [2, 4]; the remainder within [0, 2]
  auto b = enclose({box(7, 9), box(2, 3)});
  CHECK(b.outputs[0].s.lo == 2);
  CHECK(b.outputs[0].s.hi == 4);
  CHECK(b.outputs[1].s.lo >= 0);
  CHECK(b.outputs[1].s.hi <= 2);
  CHECK_FALSE(b.mayFail);
  // a divisor box holding 0 may fail; the quotients of the other divisors are enclosed
  auto z = enclose({box(-6, 6), box(-1, 1)});
  CHECK(z.mayFail);
  CHECK(z.outputs[0].s.lo == -6);
  CHECK(z.outputs[0].s.hi == 6);
  // a product that may pass 2^53 may fail
  auto o = enclose({box(1, 10000), box(1, 1)});
  CHECK(o.mayFail);
  // ... and one beyond it at every point fails, as the interpreter does
  std::vector<IntervalValue> huge = {box(9000, 10000), box(1, 1)};
  auto h = symbolic::evaluateIntervals(fi, huge);
  REQUIRE_FALSE(h);
  CHECK(h.error().message.find("integer overflow in *") != std::string::npos);
  CHECK(h.error().loc.line == 4);
}

TEST_CASE("intervals: an error at every point of the box is the interpreter's, located alike",
          "[interval]") {
  const char* src = R"(
module Errs(x: real, k: int) -> (y: real) {
    let a = [1.0, 2.0, 3.0];
    if k > 10 {
        y = a[k];
    } else {
        y = log(x);
    }
}
)";
  auto prog = testing::lowerChs(src);
  const ir::Function& f = *prog->findFunction("Errs");
  struct Case {
    IntervalValue x, k;
    symbolic::Value px, pk; // a point of the box
    const char* message;
  };
  for (const Case& c : {Case{box(-3, -1), box(0, 5), symbolic::Value::scalar(-2),
                             symbolic::Value::scalar(1), "log of"},
                        Case{box(1, 2), box(11, 14), symbolic::Value::scalar(1.5),
                             symbolic::Value::scalar(12), "is out of range [0, 3)"}}) {
    std::vector<IntervalValue> in = {c.x, c.k};
    auto r = symbolic::evaluateIntervals(f, in);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(c.message) != std::string::npos);
    Rng rng(1);
    std::vector<symbolic::Value> pin = {c.px, c.pk};
    auto run = symbolic::run(f, pin, rng);
    REQUIRE_FALSE(run);
    CHECK(run.error().loc.line == r.error().loc.line);
    CHECK(run.error().loc.col == r.error().loc.col);
  }
  // one arm failing for certain under an undecided condition: the other arm's value, may fail
  std::vector<IntervalValue> in = {box(1, 2), box(5, 14)};
  auto r = symbolic::evaluateIntervals(f, in);
  REQUIRE(r);
  CHECK(r->mayFail);
  CHECK(r->outputs[0].s.lo >= -1e-300); // log over [1, 2], widened by ulps around libm
  CHECK(r->outputs[0].s.hi <= std::log(2.0) + 1e-12);
}

TEST_CASE("intervals: random statements and wrong boxes are errors that say so", "[interval]") {
  auto prog = testing::lowerChs(R"(
module Noisy(x: real) -> (y: real) {
    y ~ Normal(x, 1.0);
}
module Pure(x: real in [0, 1]) -> (y: real) {
    y = x;
}
)");
  std::vector<IntervalValue> one = {box(0, 1)};
  auto r = symbolic::evaluateIntervals(*prog->findFunction("Noisy"), one);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("deterministic code only") != std::string::npos);
  std::vector<IntervalValue> outside = {box(2, 3)};
  auto o = symbolic::evaluateIntervals(*prog->findFunction("Pure"), outside);
  REQUIRE_FALSE(o);
  CHECK(o.error().message.find("no value in its declared range") != std::string::npos);
  std::vector<IntervalValue> reversed = {box(1, 0)};
  CHECK_FALSE(symbolic::evaluateIntervals(*prog->findFunction("Pure"), reversed));
  std::vector<IntervalValue> clipped = {box(-1, 0.5)};
  auto c = symbolic::evaluateIntervals(*prog->findFunction("Pure"), clipped);
  REQUIRE(c);
  CHECK(c->mayFail); // the points below 0 are inputs the interpreter rejects
  CHECK(c->outputs[0].s.lo == 0);
  CHECK(c->outputs[0].s.hi == 0.5);
}

using testing::ProgramGen;

TEST_CASE("intervals: on random programs every successful run at a point of the box is "
          "enclosed",
          "[interval]") {
  int programs = 0, boxes = 0, points = 0, succeeded = 0, rejected = 0, mayFailBoxes = 0;
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    ProgramGen gen(seed);
    const std::string src = gen.module();
    INFO(src);
    // the checker rejects a few draws (a constant index out of bounds): they are skipped
    auto prog = testing::lowerRandomProgram(src);
    if (!prog) continue;
    const ir::Function& f = *prog->findFunction("P");
    ++programs;
    for (int b = 0; b < 6; ++b) {
      // a random box inside the declared ranges (a point now and then)
      auto realBox = [&](double lo, double hi) {
        double u = lo + gen.unit() * (hi - lo), v = lo + gen.unit() * (hi - lo);
        if (gen.pick(5) == 0) v = u;
        return Interval{std::min(u, v), std::max(u, v)};
      };
      auto intBox = [&](int lo, int hi) {
        double u = double(lo + int(gen.pick(uint64_t(hi - lo + 1))));
        double v = double(lo + int(gen.pick(uint64_t(hi - lo + 1))));
        if (gen.pick(3) == 0) v = u;
        return Interval{std::min(u, v), std::max(u, v)};
      };
      std::vector<IntervalValue> in = {
          IntervalValue::scalar(realBox(-4, 4)), IntervalValue::scalar(realBox(-4, 4)),
          IntervalValue::scalar(intBox(-6, 6)), IntervalValue::scalar(intBox(-6, 6)),
          IntervalValue::array({realBox(-3, 3), realBox(-3, 3), realBox(-3, 3)})};
      auto enc = symbolic::evaluateIntervals(f, in);
      ++boxes;
      if (enc && enc->mayFail) ++mayFailBoxes;
      if (!enc) ++rejected;
      // points: the corners' mix and random points of the box
      for (int p = 0; p < 25; ++p) {
        auto at = [&](const Interval& iv, bool isInt) {
          const int mode = int(gen.pick(4));
          if (mode == 0) return iv.lo;
          if (mode == 1) return iv.hi;
          const double v = iv.lo + gen.unit() * (iv.hi - iv.lo);
          return isInt ? std::round(v) : std::min(std::max(v, iv.lo), iv.hi);
        };
        std::vector<symbolic::Value> pin = {
            symbolic::Value::scalar(at(in[0].s, false)),
            symbolic::Value::scalar(at(in[1].s, false)), symbolic::Value::scalar(at(in[2].s, true)),
            symbolic::Value::scalar(at(in[3].s, true)),
            symbolic::Value::array(
                {at(in[4].a[0], false), at(in[4].a[1], false), at(in[4].a[2], false)})};
        Rng rng(7);
        auto run = symbolic::run(f, pin, rng);
        ++points;
        if (!enc) {
          INFO("the box was rejected: " << enc.error().str());
          CHECK_FALSE(run); // every point fails
          continue;
        }
        if (!run) {
          INFO("a point failed: " << run.error().str());
          CHECK(enc->mayFail);
          continue;
        }
        ++succeeded;
        const double r = run->outputs[0].s, i = run->outputs[1].s;
        INFO("r = " << r << " in [" << enc->outputs[0].s.lo << ", " << enc->outputs[0].s.hi
                    << "], i = " << i << " in [" << enc->outputs[1].s.lo << ", "
                    << enc->outputs[1].s.hi << "]");
        CHECK(enc->outputs[0].s.contains(r));
        CHECK(enc->outputs[1].s.contains(i));
      }
    }
  }
  CHECK(programs > 100);
  INFO(programs << " programs, " << boxes << " boxes, " << points << " points");
  // the campaign exercised all three outcomes
  CHECK(succeeded > points / 4);
  CHECK(rejected > 0);
  CHECK(mayFailBoxes > 0);
  CHECK(mayFailBoxes < boxes);
}
