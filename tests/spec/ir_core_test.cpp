// Tests of the core IR (spec/ir.h): hash-consing, typing rules of the builders, the visitor and
// the mutator, and the printer's exact text.
#include "spec/ir.h"

#include <catch2/catch.hpp>

#include <map>
#include <sstream>

using namespace chassis;
using namespace chassis::ir;

TEST_CASE("IR: the same structure is the same node", "[ir]") {
  Program p;
  Context& c = p.ctx();
  Function& f = p.addFunction("F", FunctionKind::Module);
  const Var* x = f.addInput("x", Type::real());
  const Var* y = f.addInput("y", Type::real());

  Expr a1 = c.binary(BinOp::Add, x, c.realConst(1.5));
  Expr a2 = c.binary(BinOp::Add, x, c.realConst(1.5));
  CHECK(a1 == a2);
  CHECK(c.realConst(1.5) == c.realConst(1.5));
  CHECK(c.intConst(3) == c.intConst(3));
  // Different structure: different nodes.
  CHECK(c.binary(BinOp::Add, y, c.realConst(1.5)) != a1);
  CHECK(c.binary(BinOp::Sub, x, c.realConst(1.5)) != a1);
  CHECK(c.binary(BinOp::Add, c.realConst(1.5), x) != a1);
  CHECK(c.realConst(0.0) != c.realConst(-0.0));
  // A real 1.0 and an int 1 differ (the type is part of the structure).
  CHECK(c.realConst(1.0) != c.intConst(1));
  CHECK(c.boolConst(true) != c.intConst(1));
  // Two variables with the same name and type are distinct.
  const Var* x2 = f.newVar("x", Type::real(), VarRole::Local);
  CHECK(x2 != x);
  CHECK(x2->slot() == 2);

  // A shared subterm is one node: building a deep term twice adds no nodes.
  Expr big1 = c.binary(BinOp::Mul, a1, c.unary(UnOp::Exp, a1));
  size_t n = c.numExprs();
  Expr big2 = c.binary(BinOp::Mul, c.binary(BinOp::Add, x, c.realConst(1.5)),
                       c.unary(UnOp::Exp, c.binary(BinOp::Add, x, c.realConst(1.5))));
  CHECK(big1 == big2);
  CHECK(c.numExprs() == n);

  // Arrays, selects and layers intern too; layers by content.
  Expr arr = c.arrayLit(Type::real(), {x, y});
  CHECK(arr == c.arrayLit(Type::real(), {x, y}));
  CHECK(arr->type() == Type::array(Type::real(), 2));
  auto w = std::make_shared<const std::vector<double>>(std::vector<double>{1, 2, 3, 4});
  auto b = std::make_shared<const std::vector<double>>(std::vector<double>{0.5, -0.5});
  auto l1 = std::make_shared<DenseLayer>(DenseLayer{2, 2, w, b});
  auto w2 = std::make_shared<const std::vector<double>>(std::vector<double>{1, 2, 3, 4});
  auto l2 = std::make_shared<DenseLayer>(DenseLayer{2, 2, w2, b});
  auto w3 = std::make_shared<const std::vector<double>>(std::vector<double>{1, 2, 3, 5});
  auto l3 = std::make_shared<DenseLayer>(DenseLayer{2, 2, w3, b});
  CHECK(c.affine(l1, arr) == c.affine(l2, arr));
  CHECK(c.affine(l1, arr) != c.affine(l3, arr));
  CHECK(c.vecRelu(c.affine(l1, arr)) == c.vecRelu(c.affine(l2, arr)));
}

TEST_CASE("IR: builders reject ill-typed operations with a message", "[ir]") {
  Program p;
  Context& c = p.ctx();
  Expr r = c.realConst(2.0), i = c.intConst(2), t = c.boolConst(true);
  Expr arr = c.arrayLit(Type::real(), {r, r, r});

  auto add = c.tryBinary(BinOp::Add, r, i);
  REQUIRE(!add);
  CHECK(add.error().message == "operator '+' does not apply to real and int");
  CHECK(!c.tryBinary(BinOp::Mod, r, r));
  CHECK(!c.tryBinary(BinOp::And, t, i));
  CHECK(!c.tryBinary(BinOp::Lt, t, t));
  CHECK(c.tryBinary(BinOp::Eq, t, t));
  CHECK(!c.tryBinary(BinOp::Eq, arr, arr)); // == on arrays is not in the IR
  CHECK(!c.tryUnary(UnOp::Not, r));
  CHECK(!c.tryUnary(UnOp::Exp, i)); // ints must be converted with ToReal first
  CHECK(c.tryUnary(UnOp::ToReal, i));
  CHECK(!c.tryUnary(UnOp::ToReal, r));
  CHECK(!c.tryUnary(UnOp::Sum, r));
  CHECK((*c.tryUnary(UnOp::Sum, arr))->type() == Type::real());
  CHECK((*c.tryUnary(UnOp::Argmax, arr))->type() == Type::integer());
  CHECK(!c.trySelect(r, r, r));
  CHECK(!c.trySelect(t, r, i));
  CHECK(!c.tryIndex(r, i));
  CHECK(!c.tryIndex(arr, r));
  CHECK((*c.tryIndex(arr, i))->type() == Type::real());
  CHECK(!c.tryUpdate(arr, i, i));
  CHECK(!c.tryArrayLit(Type::real(), {r, i}));
  auto l = std::make_shared<DenseLayer>(
      DenseLayer{2, 3, std::make_shared<const std::vector<double>>(6, 1.0),
                 std::make_shared<const std::vector<double>>(2, 0.0)});
  CHECK(!c.tryAffine(l, c.arrayLit(Type::real(), {r, r})));
  CHECK((*c.tryAffine(l, arr))->type() == Type::array(Type::real(), 2));
  CHECK(!c.tryVecRelu(r));

  // Calls: argument count and types are checked; random functions are not expressions.
  Function& g = p.addFunction("G", FunctionKind::Module);
  g.addInput("a", Type::real());
  g.addOutput("out", Type::real());
  CHECK(!c.tryCall(g, {}));
  CHECK(!c.tryCall(g, {i}));
  Expr call = c.call(g, {r});
  CHECK((*c.tryCallResult(call, 0))->type() == Type::real());
  CHECK(!c.tryCallResult(call, 1));
  Function& h = p.addFunction("H", FunctionKind::Module);
  const Var* hv = h.addOutput("v", Type::real());
  h.setBody({c.stmt<SampleStmt>(SourceLoc{}, hv, DistKind::Normal, std::vector<Expr>{r, r}, "v",
                                std::vector<Expr>{})});
  CHECK(h.isRandom());
  CHECK(!h.hasWeight());
  auto hc = c.tryCall(h, {});
  REQUIRE(!hc);
  CHECK(hc.error().message == "'H' is random: call it with a call statement, not an expression");
}

namespace {

/// Counts nodes by kind; must implement every visit method (or it would not compile).
struct KindCounter : ExprVisitor<void> {
  std::map<std::string, int> counts;
  void count(const ExprNode& n) {
    ++counts[std::string(kindName(n.kind()))];
    for (Expr op : n.operands())
      visit(op);
  }
  void visitConst(const Const& n) override { count(n); }
  void visitVar(const Var& n) override { count(n); }
  void visitUnary(const Unary& n) override { count(n); }
  void visitBinary(const Binary& n) override { count(n); }
  void visitSelect(const Select& n) override { count(n); }
  void visitArrayLit(const ArrayLit& n) override { count(n); }
  void visitIndex(const Index& n) override { count(n); }
  void visitUpdate(const Update& n) override { count(n); }
  void visitCall(const Call& n) override { count(n); }
  void visitCallResult(const CallResult& n) override { count(n); }
  void visitAffine(const Affine& n) override { count(n); }
  void visitVecRelu(const VecRelu& n) override { count(n); }
};

/// Doubles every real constant.
struct DoubleConstants : ExprMutator {
  using ExprMutator::ExprMutator;
  int visits = 0;
  Expr visitConst(const Const& n) override {
    ++visits;
    if (n.type() == Type::real()) return ctx_.realConst(2 * n.realValue());
    return &n;
  }
};

} // namespace

TEST_CASE("IR: the visitor reaches every node kind", "[ir]") {
  Program p;
  Context& c = p.ctx();
  Function& g = p.addFunction("G", FunctionKind::Module);
  const Var* a = g.addInput("a", Type::real());
  g.addOutput("out", Type::real());
  Function& f = p.addFunction("F", FunctionKind::Module);
  const Var* x = f.addInput("x", Type::array(Type::real(), 2));
  auto l = std::make_shared<DenseLayer>(
      DenseLayer{2, 2, std::make_shared<const std::vector<double>>(4, 1.0),
                 std::make_shared<const std::vector<double>>(2, 0.0)});
  Expr i0 = c.intConst(0);
  Expr layer = c.vecRelu(c.affine(l, c.update(x, i0, c.realConst(1.0))));
  Expr callOut = c.callResult(c.call(g, {c.index(layer, i0)}), 0);
  Expr e = c.select(c.binary(BinOp::Lt, callOut, c.unary(UnOp::Neg, a)),
                    c.arrayLit(Type::real(), {callOut, callOut}), layer);
  KindCounter k;
  k.visit(e);
  for (std::string_view name : {"Const", "Var", "Unary", "Binary", "Select", "ArrayLit", "Index",
                                "Update", "Call", "CallResult", "Affine", "VecRelu"})
    CHECK(k.counts[std::string(name)] > 0);
  CHECK(k.counts["Select"] == 1);
  // One Affine node in the DAG, reached four times through the tree: three uses of callOut
  // (each through G's argument) and the select's false branch.
  CHECK(k.counts["Affine"] == 4);
}

TEST_CASE("IR: a mutator rewrites constants, memoised over the DAG", "[ir]") {
  Program p;
  Context& c = p.ctx();
  Function& f = p.addFunction("F", FunctionKind::Module);
  const Var* x = f.addInput("x", Type::real());
  Expr shared = c.binary(BinOp::Mul, x, c.realConst(3.0));
  Expr e = c.binary(BinOp::Add, shared, c.binary(BinOp::Sub, shared, c.realConst(0.5)));
  DoubleConstants m(c);
  Expr r = m.mutate(e);
  Expr sharedExpected = c.binary(BinOp::Mul, x, c.realConst(6.0));
  Expr expected =
      c.binary(BinOp::Add, sharedExpected, c.binary(BinOp::Sub, sharedExpected, c.realConst(1.0)));
  CHECK(r == expected);
  CHECK(m.visits == 2); // 3.0 and 0.5, each once: the shared product is rewritten once
  // Nothing to rewrite: the same node comes back.
  DoubleConstants m2(c);
  CHECK(m2.mutate(c.unary(UnOp::Neg, x)) == c.unary(UnOp::Neg, x));

  // Statements: mutateBlock rebuilds a block with every expression rewritten.
  const Var* out = f.addOutput("y", Type::real());
  Block body{
      c.stmt<AssignStmt>(SourceLoc{"f.chs", 3, 5}, out, c.binary(BinOp::Add, x, c.realConst(1.0))),
      c.stmt<AssertStmt>(SourceLoc{"f.chs", 4, 5}, c.binary(BinOp::Lt, out, c.realConst(10.0)),
                         "small")};
  DoubleConstants m3(c);
  Block nb = m3.mutateBlock(body);
  REQUIRE(nb.size() == 2);
  CHECK(nb[0]->as<AssignStmt>()->value == c.binary(BinOp::Add, x, c.realConst(2.0)));
  CHECK(nb[1]->as<AssertStmt>()->cond == c.binary(BinOp::Lt, out, c.realConst(20.0)));
  CHECK(nb[1]->loc().line == 4);
  CHECK(nb[1]->as<AssertStmt>()->message == "small");
}

TEST_CASE("IR: printer golden text", "[ir]") {
  Program p;
  Context& c = p.ctx();
  int gear = c.addEnum({"Gear", {"Low", "High"}, {}});
  Function& ctl = p.addFunction("Controller", FunctionKind::Module);
  const Var* reading = ctl.addInput("reading", Type::real(), std::pair{0.0, 200.0});
  const Var* speed = ctl.addInput("speed", Type::real(), std::pair{0.0, 40.0});
  const Var* brake = ctl.addOutput("brake", Type::boolean());
  const Var* g = ctl.addOutput("gear", Type::enumeration(gear));
  const Var* stopping = ctl.newVar("stopping", Type::real(), VarRole::Local);
  SourceLoc loc{"b.chs", 1, 1};
  ctl.setBody({
      c.stmt<LetStmt>(loc, stopping,
                      c.binary(BinOp::Div, c.binary(BinOp::Mul, speed, speed), c.realConst(12.0))),
      c.stmt<AssignStmt>(
          loc, brake,
          c.binary(BinOp::Le, reading, c.binary(BinOp::Add, stopping, c.realConst(5.0)))),
      c.stmt<AssignStmt>(loc, g,
                         c.select(c.binary(BinOp::Gt, speed, c.realConst(20.0)),
                                  c.enumConst(gear, 1), c.enumConst(gear, 0))),
  });
  Function& m = p.addFunction("Model", FunctionKind::Module);
  const Var* theta = m.addOutput("theta", Type::array(Type::real(), 3));
  const Var* i = m.newVar("i", Type::integer(), VarRole::LoopIndex);
  const Var* t = m.newVar("t", Type::real(), VarRole::Random);
  const Var* b = m.newVar("b", Type::boolean(), VarRole::Local);
  m.setBody({c.stmt<ForStmt>(
      loc, i, 0, 3,
      Block{c.stmt<SampleStmt>(loc, t, DistKind::Normal,
                               std::vector<Expr>{c.realConst(0.0), c.realConst(1.0)}, "theta",
                               std::vector<Expr>{i}),
            c.stmt<AssignStmt>(loc, theta, c.update(theta, i, t)),
            c.stmt<ObserveStmt>(loc, DistKind::Normal, std::vector<Expr>{t, c.realConst(0.5)},
                                c.realConst(1.0)),
            c.stmt<CallStmt>(loc, std::vector<const Var*>{b, nullptr}, &ctl,
                             std::vector<Expr>{t, c.unary(UnOp::Abs, t)}, "Controller",
                             std::vector<Expr>{i})})});
  Property prop;
  prop.name = "brakes";
  const Var* r = prop.addVar(c, "r", Type::real(), 0, 10);
  prop.body = c.callResult(c.call(ctl, {r, c.realConst(30.0)}), 0);
  p.properties.push_back(prop);

  std::ostringstream os;
  print(p, os);
  CHECK(os.str() == R"(enum Gear { Low, High }
module Controller(reading: real in [0.0, 200.0], speed: real in [0.0, 40.0]) -> (brake: bool, gear: Gear) {
  let stopping: real = (speed * speed) / 12.0
  brake = reading <= (stopping + 5.0)
  gear = select(speed > 20.0, Gear.High, Gear.Low)
}
module Model() -> (theta: real[3]) random weighted {
  for i in 0..3 {
    t ~ Normal(0.0, 1.0) @ theta[i]
    theta = update(theta, i, t)
    observe Normal(t, 0.5) = 1.0
    (b, _) = call Controller(t, abs(t)) @ Controller[i]
  }
}
property brakes: forall r: real in [0.0, 10.0]:
  Controller(r, 30.0).brake
)");
  CHECK(formatReal(0.1) == "0.1");
  CHECK(formatReal(1e300) == "1e+300");
  CHECK(formatReal(-3) == "-3.0");
}
