// The rule for counterexamples (spec/LANGUAGE.md §8, "Counterexamples"): a `violated` verdict
// needs a float64 point at which the property is PROVED false over the reals (Z3, every variable
// fixed to the exact rational of its double); the float64 replay there is only a note. A point
// that only float64 makes false (exp(log(x)) == x at x = 0.3000000000000409; an exact tie broken
// by rounding) is `unknown` with that reason, for forall properties as for asserts. A Z3 model
// that divides by zero is named in the report.
#include "verifier/ir_encoder.h"
#include "verifier/properties.h"
#include "verifier/replay.h"
#include "verifier/z3_encoder.h"

#include "tests/symbolic/compile_chs.h"

#include <catch2/catch.hpp>

#include <memory>

using namespace chassis;
using namespace chassis::verifier;

namespace {

PropertyResult verifyOnly(const std::string& src) {
  auto prog = testing::lowerChs(src);
  REQUIRE(prog->properties.size() == 1);
  VerifyOptions o;
  o.timeoutSec = 30;
  return verifyProperty(*prog, prog->properties[0], o);
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("replay: exp(log(x)) == x is not violated by a float64 rounding artefact",
          "[replay][verifier]") {
  PropertyResult r = verifyOnly("property exp_log: forall x in [0.3, 0.7]: exp(log(x)) == x;");
  INFO(r.reason);
  CHECK(r.verdict == Verdict::Unknown);
  CHECK(contains(r.reason, "floating-point rounding effect"));
  CHECK(r.counterexample.empty());
}

TEST_CASE("replay: an exact tie that float64 breaks is not violated", "[replay][verifier]") {
  // exp(x) exp(y) = exp(x + y) over the reals: `<=` holds, with equality everywhere.
  PropertyResult r =
      verifyOnly("property tie: forall x in [0, 1], y in [0, 1]: exp(x) * exp(y) <= exp(x + y);");
  INFO(r.reason);
  CHECK(r.verdict != Verdict::Violated);
  CHECK(r.verdict != Verdict::Internal);
}

TEST_CASE("replay: false over the reals, true in float64: violated with a floating-point note",
          "[replay][verifier]") {
  PropertyResult r = verifyOnly("property tiny: forall x in [1, 2]: x + 1e-20 == x;");
  INFO(r.reason);
  CHECK(r.verdict == Verdict::Violated);
  CHECK(r.valueAtCounterexample == "true");
  CHECK(contains(r.reason, "floating-point note"));
}

TEST_CASE("replay: a real counterexample is violated without a note", "[replay][verifier]") {
  PropertyResult r = verifyOnly("property sq: forall x in [0, 1]: x * x <= 0.5;");
  CHECK(r.verdict == Verdict::Violated);
  CHECK(r.valueAtCounterexample == "false");
  CHECK(r.reason.empty());
}

TEST_CASE("replay: a Z3 model that divides by zero is named, never a counterexample",
          "[replay][verifier]") {
  // x * (1 / x) == 1 wherever it is defined; Z3 gives 1/0 an arbitrary value, so x = 0 refutes
  // it in Z3's arithmetic, and float64 near 0 only rounds.
  PropertyResult r = verifyOnly("property inv: forall x in [-1, 1]: x * (1.0 / x) == 1.0;");
  INFO(r.reason);
  CHECK(r.verdict == Verdict::Unknown);
  CHECK(contains(r.reason, "division by zero"));
}

TEST_CASE("replay: RealPointCheck decides a float64 point exactly", "[replay][verifier]") {
  auto prog = testing::lowerChs("property p: forall x in [1, 2]: x * x <= 2.0;\n");
  const ir::Property& p = prog->properties[0];
  std::vector<const ir::Var*> vars{p.vars[0].var};
  RealPointCheck real(p.body, vars, {{1.0, 2.0}}, 10);
  std::vector<symbolic::Value> frame(size_t(p.numSlots));
  // 1.4142135623730951^2 = 2.00000000000000027... > 2; the double below squares to < 2.
  frame[size_t(vars[0]->slot())] = symbolic::Value::scalar(1.4142135623730951);
  CHECK(real.proves(frame, false));
  CHECK_FALSE(real.proves(frame, true));
  frame[size_t(vars[0]->slot())] = symbolic::Value::scalar(1.4142135623730949);
  CHECK(real.proves(frame, true));
  CHECK_FALSE(real.proves(frame, false));
  CHECK(real.error().empty());

  // Under the enclosures of exp and log nothing is proved at the rounding artefact's point.
  auto prog2 = testing::lowerChs("property q: forall x in [0.3, 0.7]: exp(log(x)) == x;\n");
  const ir::Property& q = prog2->properties[0];
  std::vector<const ir::Var*> qv{q.vars[0].var};
  RealPointCheck real2(q.body, qv, {{0.3, 0.7}}, 10);
  std::vector<symbolic::Value> f2(size_t(q.numSlots));
  f2[size_t(qv[0]->slot())] = symbolic::Value::scalar(0.3000000000000409);
  CHECK_FALSE(real2.proves(f2, false));
}

TEST_CASE("replay: an assert that only float64 breaks is not violated", "[replay][verifier]") {
  auto prog = testing::lowerChs("module M(x: real in [0.3, 0.7]) -> (y: real) {\n"
                                "    y = x;\n"
                                "    assert(exp(log(x)) == x);\n"
                                "}\n");
  VerifyOptions o;
  o.timeoutSec = 30;
  auto rs = verifyAsserts(*prog, o);
  REQUIRE(rs.size() == 1);
  INFO(rs[0].reason);
  CHECK(rs[0].verdict != Verdict::Violated);
  CHECK(rs[0].verdict != Verdict::Internal);
}

TEST_CASE("replay: Z3Encoder::checkPoint tells a real counterexample from a float64 one",
          "[replay][verifier][vnnlib]") {
  // y = 0.1 x at x = 0.5692038748222122: float64 rounds 0.1 x down to exactly d below, while the
  // exact product of the two doubles is larger than d.
  neural::AffineNet net;
  net.inputSize = 1;
  neural::AffineLayer L;
  L.W = Eigen::MatrixXd::Constant(1, 1, 0.1);
  L.b = Eigen::VectorXd::Zero(1);
  net.layers.push_back(L);
  const double x0 = 0.5692038748222122, d = 0.056920387482221224;
  CaseSpec cs;
  cs.box.lo = Eigen::VectorXd::Constant(1, 0.0);
  cs.box.hi = Eigen::VectorXd::Constant(1, 1.0);
  cs.C = Eigen::MatrixXd::Ones(1, 1);
  cs.d = Eigen::VectorXd::Constant(1, d);
  Eigen::VectorXd x = Eigen::VectorXd::Constant(1, x0);
  REQUIRE(0.1 * x0 <= d); // float64: in the unsafe set
  CHECK(replays(net, cs, x));
  Z3Encoder z3(net);
  CHECK(z3.checkPoint(cs, x, 10).status == Verdict::Holds); // the reals: not
  cs.d[0] = std::nextafter(d, 1.0);
  CHECK(z3.checkPoint(cs, x, 10).status == Verdict::Violated);
}

TEST_CASE("IrEncoder: a CallRangeHook decides whether a callee's ranges are assumed",
          "[verifier][range-obligations]") {
  auto prog = testing::lowerChs("module C(x: real in [0, 1]) -> (y: real) { y = x; }\n"
                                "property p: forall z in [0, 5]: C(z).y <= 1.0;\n");
  const ir::Property& p = prog->properties[0];
  for (bool assume : {true, false}) {
    z3::context c;
    IrEncoder enc(c);
    int calls = 0;
    enc.setCallRangeHook([&](const IrEncoder::RangedCall& rc) {
      ++calls;
      CHECK(rc.callee->name() == "C");
      CHECK(rc.callerDepth == 0);
      CHECK(rc.args->size() == 1);
      return assume;
    });
    Status st = IrEncoder::guard([&]() -> Status {
      SymValue z = enc.freshVar("z", p.vars[0].var->type(), 0, 5);
      enc.bind(p.vars[0].var, z);
      auto body = enc.encode(p.body);
      if (!body) return body.error();
      z3::solver s(c);
      for (const z3::expr& a : enc.assumptions())
        s.add(a);
      s.add(!body->e[0]);
      // Assumed: z in [0, 1] on the call, so C(z).y <= 1 always; declined: z = 5 refutes it.
      CHECK(s.check() == (assume ? z3::unsat : z3::sat));
      return Status::ok();
    });
    REQUIRE(st);
    CHECK(calls == 1);
  }
}

TEST_CASE("replay: an irrational point of an exact encoding decides, shown exactly",
          "[replay][verifier]") {
  // No double squares to 2; Z3's algebraic point sqrt(2) is exact (nothing relaxed, no division).
  PropertyResult ex = verifyOnly("property ex: exists x in [0, 2]: x * x == 2.0;");
  INFO(ex.reason);
  CHECK(ex.verdict == Verdict::Holds);
  REQUIRE(ex.counterexample.size() == 1);
  CHECK(ex.counterexample[0].second.rfind("1.41421356237309504880", 0) == 0);
  CHECK(contains(ex.counterexample[0].second, "exact"));
  PropertyResult fa = verifyOnly("property fa: forall x in [0, 2]: x * x != 2.0;");
  INFO(fa.reason);
  CHECK(fa.verdict == Verdict::Violated);
  CHECK(contains(fa.reason, "floating-point note"));
}

TEST_CASE("replay: a network counterexample on the boundary is moved inside the unsafe set",
          "[replay][verifier][vnnlib]") {
  // y = -(relu(x - a) + relu(a - x)) = -|x - a|, a = 0.3; unsafe: y >= -delta, an interval of
  // half-width delta = 1e-8 around a. The start point a + delta sits on its boundary.
  const double a = 0.3, delta = 1e-8;
  neural::AffineNet net;
  net.inputSize = 1;
  neural::AffineLayer hidden, out;
  hidden.W = Eigen::MatrixXd(2, 1);
  hidden.W << 1, -1;
  hidden.b = Eigen::VectorXd(2);
  hidden.b << -a, a;
  hidden.relu = true;
  out.W = Eigen::MatrixXd::Constant(1, 2, -1.0);
  out.b = Eigen::VectorXd::Zero(1);
  net.layers = {hidden, out};
  CaseSpec cs;
  cs.box.lo = Eigen::VectorXd::Constant(1, 0.0);
  cs.box.hi = Eigen::VectorXd::Constant(1, 1.0);
  cs.C = Eigen::MatrixXd::Constant(1, 1, -1.0); // -y <= delta
  cs.d = Eigen::VectorXd::Constant(1, delta);
  Eigen::VectorXd x0 = Eigen::VectorXd::Constant(1, a + delta);
  REQUIRE(std::fabs(violation(net, cs, x0)) < 1e-15); // on the boundary, up to rounding
  Z3Encoder exact(net);
  // Accept only points at least delta / 2 deep that are counterexamples in exact arithmetic.
  auto deep = [&](const Eigen::VectorXd& x) {
    return violation(net, cs, x) <= -delta / 2 &&
           exact.checkPoint(cs, x, 10).status == Verdict::Violated;
  };
  std::optional<Eigen::VectorXd> x = deepenCounterexample(net, cs, x0, deep);
  REQUIRE(x);
  INFO("x = " << (*x)[0]);
  CHECK(std::fabs((*x)[0] - a) <= delta / 2 * (1 + 1e-6));
  CHECK(replays(net, cs, *x));
  CHECK(exact.checkPoint(cs, *x, 10).status == Verdict::Violated);
  // Nothing accepted, or no output constraint to deepen against: no point.
  CHECK_FALSE(deepenCounterexample(net, cs, x0, [](const Eigen::VectorXd&) { return false; }));
  CaseSpec boxOnly = cs;
  boxOnly.C.resize(0, 1);
  boxOnly.d.resize(0);
  CHECK_FALSE(deepenCounterexample(net, boxOnly, x0, deep));
}

TEST_CASE("replay: a constant division by zero is named, never a hang or a verdict",
          "[replay][verifier]") {
  // 1.0 / 0.0 has no real value: Z3 gives it an arbitrary one, the interpreter an error; the
  // encoder never turns an infinite constant into a rational (that loop once did not end).
  auto prog = testing::lowerChs("module M(x: real in [0, 1]) -> (y: real) { y = x + 1.0 / 0.0; }\n"
                                "property bound: forall x in [0, 1]: x <= 1.0 / 0.0;\n"
                                "property call: forall x in [0, 1]: M(x).y >= 0.0;\n");
  VerifyOptions o;
  o.timeoutSec = 30;
  for (const ir::Property& p : prog->properties) {
    PropertyResult r = verifyProperty(*prog, p, o);
    INFO(p.name << ": " << r.reason);
    CHECK(r.verdict == Verdict::Unknown);
    CHECK(contains(r.reason, "division by zero"));
  }
}
