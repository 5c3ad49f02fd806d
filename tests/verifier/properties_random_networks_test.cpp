// The property checker on 100 random small ReLU networks built at the IR level (Affine / VecRelu
// nodes, 2 inputs, <= 16 ReLUs), with output properties cross-checked against a grid evaluated
// by the interpreter and planted violations (a bound below the value at a grid point) always
// found; and the SMT-LIB2 export answered identically by the z3 command line.
#include "spec/ir.h"
#include "symbolic/interp.h"
#include "verifier/properties.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <random>

using namespace chassis;
using namespace chassis::verifier;

namespace {

std::shared_ptr<ir::DenseLayer> layer(std::mt19937& g, int rows, int cols) {
  std::normal_distribution<double> n(0, 1);
  auto L = std::make_shared<ir::DenseLayer>();
  L->rows = rows;
  L->cols = cols;
  auto w = std::make_shared<std::vector<double>>();
  auto b = std::make_shared<std::vector<double>>();
  for (int i = 0; i < rows * cols; ++i) w->push_back(n(g));
  for (int i = 0; i < rows; ++i) b->push_back(0.5 * n(g));
  L->weights = w;
  L->bias = b;
  return L;
}

/// A program with network N(x: real[2]) -> (y: real[1]) and `forall a, b in [-1, 1]: N([a, b]).y[0] <= c`.
ir::Program makeNet(std::mt19937& g, int hidden, double c) {
  ir::Program p;
  ir::Context& ctx = p.ctx();
  ir::Function& f = p.addFunction("N", ir::FunctionKind::Network);
  const ir::Var* x = f.addInput("x", ir::Type::array(ir::Type::real(), 2));
  const ir::Var* y = f.addOutput("y", ir::Type::array(ir::Type::real(), 1));
  const ir::Var* h = f.newVar("h", ir::Type::array(ir::Type::real(), hidden), ir::VarRole::Local);
  ir::Block body;
  body.push_back(ctx.stmt<ir::LetStmt>(SourceLoc{}, h, ctx.vecRelu(ctx.affine(layer(g, hidden, 2), x))));
  body.push_back(ctx.stmt<ir::AssignStmt>(SourceLoc{}, y, ctx.affine(layer(g, 1, hidden), h)));
  f.setBody(std::move(body));
  ir::Property prop;
  prop.name = "out";
  const ir::Var* a = prop.addVar(ctx, "a", ir::Type::real(), -1, 1);
  const ir::Var* b = prop.addVar(ctx, "b", ir::Type::real(), -1, 1);
  ir::Expr call = ctx.call(f, {ctx.arrayLit(ir::Type::real(), {a, b})});
  ir::Expr out = ctx.index(ctx.callResult(call, 0), ctx.intConst(0));
  prop.body = ctx.binary(ir::BinOp::Le, out, ctx.realConst(c));
  p.properties.push_back(prop);
  return p;
}

double netAt(const ir::Program& p, double a, double b) {
  const ir::Property& q = p.properties[0];
  std::vector<symbolic::Value> fr(size_t(q.numSlots));
  fr[size_t(q.vars[0].var->slot())].s = a;
  fr[size_t(q.vars[1].var->slot())].s = b;
  ir::Expr out = q.body->operand(0);
  auto v = symbolic::evaluate(out, fr, q.loc);
  REQUIRE(v);
  return v->s;
}

} // namespace

TEST_CASE("100 random ReLU networks: verdicts vs a grid; planted violations found", "[props][net]") {
  std::mt19937 g(777);
  int holds = 0, violated = 0;
  for (int t = 0; t < 100; ++t) {
    int hidden = 2 + int(g() % 15);
    bool plant = t % 2 == 0;
    // Build once with a placeholder bound to read the grid maximum, then with the real bound.
    std::mt19937 g2 = g;
    ir::Program probe = makeNet(g2, hidden, 0);
    double gridMax = -1e300;
    for (int i = 0; i <= 20; ++i)
      for (int j = 0; j <= 20; ++j) gridMax = std::max(gridMax, netAt(probe, -1 + 0.1 * i, -1 + 0.1 * j));
    double c = plant ? gridMax - 0.05 : gridMax + 0.05 * (1 + std::abs(gridMax));
    ir::Program prog = makeNet(g, hidden, c); // same weights: g advanced like g2
    auto r = verifyProperty(prog, prog.properties[0], VerifyOptions{});
    INFO("net " << t << " hidden " << hidden << " c " << c);
    REQUIRE(r.verdict != Verdict::Internal);
    REQUIRE(r.verdict != Verdict::Unknown);
    if (plant) CHECK(r.verdict == Verdict::Violated); // a grid point exceeds c
    if (r.verdict == Verdict::Violated) {
      CHECK(r.valueAtCounterexample == "false");
      ++violated;
    } else {
      ++holds;
    }
  }
  CHECK(violated >= 50);
  CHECK(holds > 0);
}

TEST_CASE("SMT-LIB2 export: the z3 command line gives the same answers", "[props][smt2]") {
  std::mt19937 g(99);
  for (int t = 0; t < 6; ++t) {
    std::mt19937 g2 = g;
    ir::Program probe = makeNet(g2, 4, 0);
    double v = netAt(probe, 0, 0);
    ir::Program prog = makeNet(g, 4, t % 2 ? v - 0.01 : v + 100);
    VerifyOptions o;
    o.emitSmt2 = true;
    auto r = verifyProperty(prog, prog.properties[0], o);
    REQUIRE(r.smt2.size() == 1);
    std::string path = "/tmp/chassis_props_G_" + std::to_string(t) + ".smt2";
    std::ofstream(path) << r.smt2[0];
    FILE* pipe = popen(("z3 " + path).c_str(), "r");
    REQUIRE(pipe);
    char buf[64] = {0};
    REQUIRE(std::fgets(buf, sizeof buf, pipe));
    pclose(pipe);
    std::string ans(buf);
    // forall: the query is the negation, so sat <=> violated.
    CHECK(ans == (r.verdict == Verdict::Violated ? "sat\n" : "unsat\n"));
    CHECK(r.verdict == (t % 2 ? Verdict::Violated : Verdict::Holds));
  }
}
