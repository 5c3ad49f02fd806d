// verifier/net_chain.h reads a network function's layers structurally (an abstract evaluation of
// its body over neurons), not by matching the one shape neural/lower_network.cpp writes:
//  - a lowered network (random AffineNets through lowerAffineNet, with and without the NNet input
//    clamp, one or several declared inputs/outputs; an ACAS Xu ONNX file through the loader)
//    reads back as the same AffineNet bit for bit, every layer its Affine node;
//  - hand-written bodies (lets in another order, a ReLU per element in its three spellings, an
//    output as a vector of elements, an affine layer of a permuted literal of inputs that reads
//    one input twice, clamps in other forms, a ReLU of the inputs) read as an AffineNet that
//    agrees with the interpreter at random points in float64;
//  - a DAG (skip connections from the inputs and from a lower layer, neurons read both before and
//    after their ReLU, outputs that mix them) becomes carried and negated rows, and agrees with
//    the interpreter;
//  - what is not a layer (tanh, a condition statement, an element at a computed index, a select,
//    a constant) gives the reason located at its statement;
//  - a property over a hand-written network or a DAG is decided by the network engine with Z3's
//    verdict, and a property over a network that is not a chain says why in its method.
#include "neural/lower_network.h"
#include "neural/onnx.h"
#include "symbolic/interp.h"
#include "verifier/ir_encoder.h"
#include "verifier/net_chain.h"
#include "verifier/net_props.h"
#include "verifier/properties.h"
#include "verifier/replay.h"
#include "exact_z3_test_util.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

using namespace chassis;
using namespace chassis::verifier;
using chassis::testing::gridDenseLayer;
using chassis::testing::z3Forall;

namespace {

const ir::Type kReal = ir::Type::real();
ir::Type vec(int n) { return ir::Type::array(ir::Type::real(), n); }


neural::AffineNet randomNet(std::mt19937& g, const std::vector<int>& sizes) {
  std::normal_distribution<double> n(0, 1);
  neural::AffineNet net;
  net.inputSize = sizes.front();
  for (size_t k = 1; k < sizes.size(); ++k) {
    neural::AffineLayer L;
    L.W.resize(sizes[k], sizes[k - 1]);
    L.b.resize(sizes[k]);
    for (int r = 0; r < sizes[k]; ++r) {
      L.b[r] = n(g);
      for (int c = 0; c < sizes[k - 1]; ++c)
        L.W(r, c) = n(g) / 3;
    }
    L.relu = k + 1 < sizes.size();
    net.layers.push_back(std::move(L));
  }
  return net;
}

spec::VarDecl* param(spec::NetworkDecl& d, const std::string& name, spec::VarKind kind, int n) {
  spec::VarDecl* v = d.newVar(name, d.loc, kind);
  v->type = n == 0 ? spec::Type::real() : spec::Type::array(spec::Type::real(), n);
  (kind == spec::VarKind::Input ? d.inputs : d.outputs).push_back(v);
  return v;
}

void requireSameNet(const neural::AffineNet& a, const neural::AffineNet& b) {
  REQUIRE(a.inputSize == b.inputSize);
  REQUIRE(a.layers.size() == b.layers.size());
  for (size_t k = 0; k < a.layers.size(); ++k) {
    INFO("layer " << k);
    CHECK(a.layers[k].relu == b.layers[k].relu);
    REQUIRE(a.layers[k].W.rows() == b.layers[k].W.rows());
    REQUIRE(a.layers[k].W.cols() == b.layers[k].W.cols());
    CHECK(a.layers[k].W == b.layers[k].W); // bit for bit
    CHECK(a.layers[k].b == b.layers[k].b);
  }
}

/// The function's outputs at `args` through the interpreter (a Call expression evaluated), and
/// through the chain's AffineNet (the inputs picked and clamped by the chain's maps); both
/// flattened. The two agree up to the float64 rounding of different summation orders.
void checkAgainstInterpreter(ir::Program& p, const ir::Function& f, const NetChain& ch,
                             std::mt19937& g, int points) {
  ir::Context& ctx = p.ctx();
  std::uniform_real_distribution<double> u(-3, 3);
  for (int t = 0; t < points; ++t) {
    std::vector<ir::Expr> args;
    std::vector<std::vector<double>> vals;
    for (const ir::Param& in : f.inputs()) {
      const ir::Type& ty = in.var->type();
      std::vector<double> v;
      if (ty.isArray()) {
        std::vector<ir::Expr> el;
        for (int i = 0; i < ty.length(); ++i) {
          v.push_back(u(g));
          el.push_back(ctx.realConst(v.back()));
        }
        args.push_back(ctx.arrayLit(kReal, el));
      } else {
        v.push_back(u(g));
        args.push_back(ctx.realConst(v.back()));
      }
      vals.push_back(v);
    }
    Eigen::VectorXd x(ch.net.inputSize);
    for (int j = 0; j < ch.net.inputSize; ++j) {
      const auto& v = vals[size_t(ch.inParam[size_t(j)])];
      double a = v[size_t(std::max(ch.inElem[size_t(j)], 0))];
      x[j] = std::min(std::max(a, ch.clampLo[size_t(j)]), ch.clampHi[size_t(j)]);
    }
    Eigen::VectorXd y = ch.net.forward(x);
    ir::Expr call = ctx.call(f, args);
    for (size_t k = 0; k < f.outputs().size(); ++k) {
      auto got = symbolic::evaluate(ctx.callResult(call, int(k)), {}, SourceLoc{});
      REQUIRE(got);
      std::vector<double> flat = f.outputs()[k]->type().isArray() ? got->a : std::vector{got->s};
      REQUIRE(flat.size() == ch.outIndex[k].size());
      for (size_t e = 0; e < flat.size(); ++e) {
        double want = y[ch.outIndex[k][e]];
        INFO("point " << t << " output " << k << "[" << e << "]");
        CHECK(std::abs(flat[e] - want) <= 1e-12 * (1 + std::abs(want)));
      }
    }
  }
}

SourceLoc at(int line) { return SourceLoc{"n.chs", line, 3}; }


/// N(a: real, x: real[3]) -> (y: real[2], z: real), written by hand:
///   let q = affine(L1b, [x[1], a, x[1]]);          (before p: lets in another order; x[1] twice)
///   let u = [x[2], a, x[0]];                        (a permuted literal of inputs, no x[1])
///   let p = affine(L1, u);
///   let h = [relu(p[0]), max(p[1], 0), max(0, p[2]), relu(p[3]), q[0]... as ReLUs];
///   let o = affine(L2, h);
///   z = o[1]; y = [o[2], o[0]];                     (outputs out of order, as elements)
const ir::Function& handWritten(ir::Program& p, std::mt19937& g) {
  ir::Context& ctx = p.ctx();
  ir::Function& f = p.addFunction("N", ir::FunctionKind::Network, at(1));
  const ir::Var* a = f.addInput("a", kReal);
  const ir::Var* x = f.addInput("x", vec(3));
  const ir::Var* y = f.addOutput("y", vec(2));
  const ir::Var* z = f.addOutput("z", kReal);
  auto el = [&](ir::Expr v, int i) { return ctx.index(v, ctx.intConst(i)); };
  auto L1 = gridDenseLayer(g, 4, 3), L1b = gridDenseLayer(g, 2, 3), L2 = gridDenseLayer(g, 3, 6);
  const ir::Var* q = f.newVar("q", vec(2), ir::VarRole::Local);
  const ir::Var* u = f.newVar("u", vec(3), ir::VarRole::Local);
  const ir::Var* pv = f.newVar("p", vec(4), ir::VarRole::Local);
  const ir::Var* h = f.newVar("h", vec(6), ir::VarRole::Local);
  const ir::Var* o = f.newVar("o", vec(3), ir::VarRole::Local);
  ir::Expr zero = ctx.realConst(0.0);
  ir::Block b;
  b.push_back(ctx.stmt<ir::LetStmt>(
      at(2), q, ctx.affine(L1b, ctx.arrayLit(kReal, {el(x, 1), a, el(x, 1)}))));
  b.push_back(ctx.stmt<ir::LetStmt>(at(3), u, ctx.arrayLit(kReal, {el(x, 2), a, el(x, 0)})));
  b.push_back(ctx.stmt<ir::LetStmt>(at(4), pv, ctx.affine(L1, u)));
  b.push_back(ctx.stmt<ir::LetStmt>(
      at(5), h,
      ctx.arrayLit(kReal, {ctx.unary(ir::UnOp::Relu, el(pv, 0)),
                           ctx.binary(ir::BinOp::Max, el(pv, 1), zero),
                           ctx.binary(ir::BinOp::Max, zero, el(pv, 2)),
                           ctx.unary(ir::UnOp::Relu, el(pv, 3)), el(ctx.vecRelu(q), 0),
                           ctx.unary(ir::UnOp::Relu, el(ctx.vecRelu(q), 1))})));
  b.push_back(ctx.stmt<ir::LetStmt>(at(6), o, ctx.affine(L2, h)));
  b.push_back(ctx.stmt<ir::AssignStmt>(at(7), z, el(o, 1)));
  b.push_back(ctx.stmt<ir::AssignStmt>(at(8), y, ctx.arrayLit(kReal, {el(o, 2), el(o, 0)})));
  f.setBody(std::move(b));
  return f;
}

/// S(x: real[3]) -> (y: real[2], z: real[2]), a DAG rather than a chain:
///   let p1 = affine(L1, x); let h1 = vecrelu(p1); let p2 = affine(L2, h1);
///   let m = affine(L3, [relu(p2[0]), p2[1], relu(p2[2]),   (layer 2 read before and after ReLU)
///                       p1[0], x[2], h1[3]]);              (layer 1 raw, the inputs: skips)
///   y = [m[0], relu(m[1])];                                (the outputs mix raw and ReLU,
///   z = [p2[1], x[0]];                                      and read lower layers)
const ir::Function& skipNet(ir::Program& p, std::mt19937& g) {
  ir::Context& ctx = p.ctx();
  ir::Function& f = p.addFunction("S", ir::FunctionKind::Network, at(1));
  const ir::Var* x = f.addInput("x", vec(3));
  const ir::Var* y = f.addOutput("y", vec(2));
  const ir::Var* z = f.addOutput("z", vec(2));
  auto el = [&](ir::Expr v, int i) { return ctx.index(v, ctx.intConst(i)); };
  auto relu = [&](ir::Expr e) { return ctx.unary(ir::UnOp::Relu, e); };
  const ir::Var* p1 = f.newVar("p1", vec(4), ir::VarRole::Local);
  const ir::Var* h1 = f.newVar("h1", vec(4), ir::VarRole::Local);
  const ir::Var* p2 = f.newVar("p2", vec(3), ir::VarRole::Local);
  const ir::Var* m = f.newVar("m", vec(3), ir::VarRole::Local);
  ir::Block b;
  b.push_back(ctx.stmt<ir::LetStmt>(at(2), p1, ctx.affine(gridDenseLayer(g, 4, 3), x)));
  b.push_back(ctx.stmt<ir::LetStmt>(at(3), h1, ctx.vecRelu(p1)));
  b.push_back(ctx.stmt<ir::LetStmt>(at(4), p2, ctx.affine(gridDenseLayer(g, 3, 4), h1)));
  b.push_back(ctx.stmt<ir::LetStmt>(
      at(5), m,
      ctx.affine(gridDenseLayer(g, 3, 6),
                 ctx.arrayLit(kReal, {relu(el(p2, 0)), el(p2, 1), relu(el(p2, 2)), el(p1, 0),
                                      el(x, 2), el(h1, 3)}))));
  b.push_back(ctx.stmt<ir::AssignStmt>(at(6), y, ctx.arrayLit(kReal, {el(m, 0), relu(el(m, 1))})));
  b.push_back(ctx.stmt<ir::AssignStmt>(at(7), z, ctx.arrayLit(kReal, {el(p2, 1), el(x, 0)})));
  f.setBody(std::move(b));
  return f;
}

} // namespace

TEST_CASE("net_chain: a lowered network reads back as the same AffineNet bit for bit",
          "[netchain][lowered]") {
  std::mt19937 g(7);
  for (int t = 0; t < 12; ++t) {
    neural::AffineNet net = randomNet(g, {4, 2 + int(g() % 5), 2 + int(g() % 5), 3});
    spec::NetworkDecl d;
    d.name = "L" + std::to_string(t);
    d.loc = SourceLoc{"t.chs", 3, 1};
    // One real[4] input, or a real and a real[3]; one real[3] output, or a real[2] and a real.
    if (t % 2) {
      param(d, "x", spec::VarKind::Input, 4);
    } else {
      param(d, "s", spec::VarKind::Input, 0);
      param(d, "v", spec::VarKind::Input, 3);
    }
    if (t % 3) {
      param(d, "y", spec::VarKind::Output, 3);
    } else {
      param(d, "w", spec::VarKind::Output, 2);
      param(d, "r", spec::VarKind::Output, 0);
    }
    std::optional<neural::InputClamp> clamp;
    if (t % 4 == 1)
      clamp = neural::InputClamp{Eigen::Vector4d(-1, -2, 0, -0.5), Eigen::Vector4d(1, 0.5, 3, 2)};
    ir::Program p;
    auto f = neural::lowerAffineNet(net, clamp, d, p);
    REQUIRE(f);
    auto ch = extractChain(**f);
    if (!ch) FAIL(ch.error().str());
    requireSameNet(ch->net, net);
    REQUIRE(ch->layers.size() == net.layers.size());
    for (const ir::Affine* a : ch->layers)
      CHECK(a != nullptr); // every layer is one Affine node reading the whole layer below
    for (int j = 0; j < 4; ++j) {
      CHECK(ch->inParam[size_t(j)] == (t % 2 ? 0 : (j == 0 ? 0 : 1)));
      CHECK(ch->inElem[size_t(j)] == (t % 2 ? j : j - 1));
      CHECK(ch->clampLo[size_t(j)] == (clamp ? clamp->lo[j] : -INFINITY));
      CHECK(ch->clampHi[size_t(j)] == (clamp ? clamp->hi[j] : INFINITY));
    }
    std::vector<std::vector<int>> outs =
        t % 3 ? std::vector<std::vector<int>>{{0, 1, 2}} : std::vector<std::vector<int>>{{0, 1}, {2}};
    CHECK(ch->outIndex == outs);
    checkAgainstInterpreter(p, **f, *ch, g, 5);
  }

  // An ACAS Xu ONNX file through the loader.
  spec::NetworkDecl d;
  d.name = "acas";
  d.format = spec::NetworkFormat::Onnx;
  d.path = d.resolvedPath =
      std::string(CHASSIS_SOURCE_DIR) + "/tests/data/acasxu/ACASXU_run2a_2_3_batch_2000.onnx";
  param(d, "x", spec::VarKind::Input, 5);
  param(d, "y", spec::VarKind::Output, 5);
  ir::Program p;
  auto f = neural::networkLoader()(d, p);
  if (!f) FAIL(f.error().str());
  auto ch = extractChain(**f);
  if (!ch) FAIL(ch.error().str());
  auto onnx = neural::loadOnnx(d.path);
  REQUIRE(onnx);
  auto want = neural::toAffineNet(*onnx);
  REQUIRE(want);
  requireSameNet(ch->net, *want);
}

TEST_CASE("net_chain: a hand-written network (lets reordered, ReLU per element, outputs as "
          "elements, permuted inputs) agrees with the interpreter",
          "[netchain][handwritten]") {
  std::mt19937 g(11);
  for (int t = 0; t < 5; ++t) {
    ir::Program p;
    const ir::Function& f = handWritten(p, g);
    auto ch = extractChain(f);
    if (!ch) FAIL(ch.error().str());
    // Inputs a, x[0], x[1], x[2] in (param, element) order; layer 1 is p's 4 rows and q's 2.
    CHECK(ch->inParam == std::vector<int>{0, 1, 1, 1});
    CHECK(ch->inElem == std::vector<int>{-1, 0, 1, 2});
    REQUIRE(ch->net.layers.size() == 2);
    CHECK(ch->net.layers[0].W.rows() == 6);
    CHECK(ch->net.layers[0].relu);
    CHECK_FALSE(ch->net.layers[1].relu);
    CHECK(ch->layers[0] == nullptr); // two Affine nodes, permuted columns
    CHECK(ch->layers[1] == nullptr); // h reads layer 1 (q's rows, then p's) as p's, then q's
    CHECK(ch->outIndex == std::vector<std::vector<int>>{{2, 0}, {1}});
    checkAgainstInterpreter(p, f, *ch, g, 20);
  }
}

TEST_CASE("net_chain: clamps in other forms and a ReLU of the inputs", "[netchain][clamp]") {
  std::mt19937 g(5);
  ir::Program p;
  ir::Context& ctx = p.ctx();
  ir::Function& f = p.addFunction("C", ir::FunctionKind::Network, at(1));
  const ir::Var* x = f.addInput("x", vec(3));
  const ir::Var* y = f.addOutput("y", vec(2));
  auto el = [&](ir::Expr v, int i) { return ctx.index(v, ctx.intConst(i)); };
  auto rc = [&](double v) { return ctx.realConst(v); };
  const ir::Var* c = f.newVar("c", vec(3), ir::VarRole::Local);
  const ir::Var* h = f.newVar("h", vec(3), ir::VarRole::Local);
  ir::Block b;
  // max(min(x0, 1), -1); min(2, max(-0.5, x1)) (constants first); max(min(max(x2, -3), 3), -1)
  // (a clamp of a clamp: [-1, 3]).
  b.push_back(ctx.stmt<ir::LetStmt>(
      at(2), c,
      ctx.arrayLit(kReal,
                   {ctx.binary(ir::BinOp::Max, ctx.binary(ir::BinOp::Min, el(x, 0), rc(1)), rc(-1)),
                    ctx.binary(ir::BinOp::Min, rc(2), ctx.binary(ir::BinOp::Max, rc(-0.5), el(x, 1))),
                    ctx.binary(ir::BinOp::Max,
                               ctx.binary(ir::BinOp::Min,
                                          ctx.binary(ir::BinOp::Max, el(x, 2), rc(-3)), rc(3)),
                               rc(-1))})));
  // A ReLU of the clamped inputs (an identity layer), then two layers.
  b.push_back(ctx.stmt<ir::LetStmt>(at(3), h, ctx.vecRelu(ctx.affine(gridDenseLayer(g, 3, 3),
                                                                     ctx.vecRelu(c)))));
  b.push_back(ctx.stmt<ir::AssignStmt>(at(4), y, ctx.affine(gridDenseLayer(g, 2, 3), h)));
  f.setBody(std::move(b));
  auto ch = extractChain(f);
  if (!ch) FAIL(ch.error().str());
  CHECK(ch->clampLo == std::vector<double>{-1, -0.5, -1});
  CHECK(ch->clampHi == std::vector<double>{1, 2, 3});
  REQUIRE(ch->net.layers.size() == 3);
  CHECK(ch->net.layers[0].W == Eigen::MatrixXd::Identity(3, 3));
  CHECK(ch->net.layers[0].relu);
  CHECK(ch->layers[0] == nullptr);
  checkAgainstInterpreter(p, f, *ch, g, 20);
}

TEST_CASE("net_chain: skip connections and neurons read before and after their ReLU become "
          "carried and negated rows",
          "[netchain][dag]") {
  std::mt19937 g(17);
  for (int t = 0; t < 5; ++t) {
    ir::Program p;
    const ir::Function& f = skipNet(p, g);
    auto ch = extractChain(f);
    if (!ch) FAIL(ch.error().str());
    // Layers 1 and 2 have their ReLU (read after it), layer 3 too (relu(m[1])); the outputs
    // mix raw and ReLU reads, so one more layer without ReLU gives them.
    REQUIRE(ch->net.layers.size() == 4);
    CHECK(ch->net.layers[0].relu);
    CHECK(ch->net.layers[1].relu);
    CHECK(ch->net.layers[2].relu);
    CHECK_FALSE(ch->net.layers[3].relu);
    CHECK(ch->net.inputSize == 3);
    // Layer 1: p1's 4 rows, then the carried x[2] and x[0] (+ and -), then -p1[0].
    CHECK(ch->net.layers[0].W.rows() > 4);
    CHECK(ch->layers[0] == nullptr); // p1 plus carried rows
    checkAgainstInterpreter(p, f, *ch, g, 30);
  }
}

TEST_CASE("net_chain: a local assigned twice is read at its latest value", "[netchain][assign]") {
  std::mt19937 g(29);
  ir::Program p;
  ir::Context& ctx = p.ctx();
  ir::Function& f = p.addFunction("A", ir::FunctionKind::Network, at(1));
  const ir::Var* x = f.addInput("x", vec(2));
  const ir::Var* y = f.addOutput("y", vec(2));
  const ir::Var* h = f.newVar("h", vec(3), ir::VarRole::Local);
  ir::Block b;
  b.push_back(ctx.stmt<ir::AssignStmt>(at(2), h, ctx.affine(gridDenseLayer(g, 3, 2), x)));
  b.push_back(ctx.stmt<ir::AssignStmt>(at(3), y, ctx.affine(gridDenseLayer(g, 2, 3), h)));
  b.push_back(ctx.stmt<ir::AssignStmt>(at(4), h, ctx.vecRelu(h)));
  b.push_back(ctx.stmt<ir::AssignStmt>(at(5), y, ctx.affine(gridDenseLayer(g, 2, 3), h)));
  f.setBody(std::move(b));
  auto ch = extractChain(f);
  if (!ch) FAIL(ch.error().str());
  REQUIRE(ch->net.layers.size() == 2);
  CHECK(ch->net.layers[0].relu); // the last y reads h after its ReLU
  checkAgainstInterpreter(p, f, *ch, g, 20);
}

TEST_CASE("net_chain: what is not a layer gives its located reason", "[netchain][reasons]") {
  std::mt19937 g(3);
  auto build = [&](ir::Program& p, int which) -> const ir::Function& {
    ir::Context& ctx = p.ctx();
    ir::Function& f = p.addFunction("M", ir::FunctionKind::Network, at(1));
    const ir::Var* x = f.addInput("x", vec(2));
    const ir::Var* y = f.addOutput("y", vec(2));
    auto el = [&](ir::Expr v, int i) { return ctx.index(v, ctx.intConst(i)); };
    const ir::Var* h1 = f.newVar("h1", vec(2), ir::VarRole::Local);
    const ir::Var* h2 = f.newVar("h2", vec(2), ir::VarRole::Local);
    ir::Block b;
    ir::Expr in = x;
    if (which == 0) in = ctx.arrayLit(kReal, {ctx.unary(ir::UnOp::Tanh, el(x, 0)), el(x, 1)});
    if (which == 4) in = ctx.arrayLit(kReal, {ctx.realConst(1.0), el(x, 1)});
    ir::Expr pre = ctx.affine(gridDenseLayer(g, 2, 2), in);
    b.push_back(ctx.stmt<ir::LetStmt>(at(2), h1, ctx.vecRelu(pre)));
    if (which == 1)
      b.push_back(ctx.stmt<ir::ConditionStmt>(
          at(3), ctx.binary(ir::BinOp::Gt, el(h1, 0), ctx.realConst(0.0))));
    b.push_back(ctx.stmt<ir::LetStmt>(at(4), h2, ctx.affine(gridDenseLayer(g, 2, 2), h1)));
    ir::Expr out = h2;
    if (which == 2) // an element at a computed index
      out = ctx.arrayLit(kReal, {ctx.index(h2, ctx.unary(ir::UnOp::Argmax, h2)), el(h2, 1)});
    if (which == 3) // a select
      out = ctx.select(ctx.binary(ir::BinOp::Gt, el(x, 0), ctx.realConst(0.0)), h2, x);
    b.push_back(ctx.stmt<ir::AssignStmt>(at(5), y, out));
    f.setBody(std::move(b));
    return f;
  };
  struct Want {
    int which;
    const char* where;
    const char* what;
  } wants[] = {
      {0, "n.chs:2:3: error: network 'M' is not a chain of layers: ", "'tanh(...)' is not a layer"},
      {1, "n.chs:3:3: error: network 'M' is not a chain of layers: ", "a condition statement"},
      {2, "n.chs:5:3: error: network 'M' is not a chain of layers: ",
       "an element at a computed index"},
      {3, "n.chs:5:3: error: network 'M' is not a chain of layers: ", "a select (c ? a : b)"},
      {4, "n.chs:2:3: error: network 'M' is not a chain of layers: ", "the constant 1"},
  };
  for (const Want& w : wants) {
    ir::Program p;
    auto ch = extractChain(build(p, w.which));
    INFO("case " << w.which);
    REQUIRE_FALSE(ch);
    const std::string msg = ch.error().str();
    INFO(msg);
    CHECK(msg.rfind(w.where, 0) == 0);
    CHECK(msg.find(w.what) != std::string::npos);
  }
  // The same network without the odd node reads.
  ir::Program p;
  CHECK(extractChain(build(p, -1)));
}

TEST_CASE("net_chain: a property over a hand-written network goes to the network engine with Z3's "
          "verdict",
          "[netchain][engine]") {
  std::mt19937 g(23);
  VerifyOptions o;
  o.timeoutSec = 20;
  int holds = 0, violated = 0;
  for (int t = 0; t < 12; ++t) {
    ir::Program p;
    const bool dag = t >= 6;
    const ir::Function& f = dag ? skipNet(p, g) : handWritten(p, g);
    ir::Context& ctx = p.ctx();
    ir::Property prop;
    prop.name = "out";
    prop.loc = at(20);
    const ir::Var* a = prop.addVar(ctx, "a", kReal, -1, 1);
    const ir::Var* b = prop.addVar(ctx, "b", kReal, -1, 1);
    const ir::Var* c = prop.addVar(ctx, "c", kReal, 0, 1);
    ir::Expr call;
    if (dag) {
      call = ctx.call(f, {ctx.arrayLit(kReal, {a, b, c})});
    } else {
      const ir::Var* d = prop.addVar(ctx, "d", kReal, -0.5, 0.5);
      call = ctx.call(f, {a, ctx.arrayLit(kReal, {b, c, d})});
    }
    ir::Expr y1 = ctx.index(ctx.callResult(call, 0), ctx.intConst(1));
    ir::Expr z = ctx.callResult(call, 1);
    if (dag) z = ctx.index(z, ctx.intConst(0));
    ir::Expr lhs = ctx.binary(ir::BinOp::Sub, y1, ctx.binary(ir::BinOp::Mul, ctx.realConst(0.5), z));
    // The bound: the value at the box's centre minus a margin (violated), or well above.
    std::vector<symbolic::Value> fr(size_t(prop.numSlots));
    fr[size_t(c->slot())].s = 0.5;
    auto v0 = symbolic::evaluate(lhs, fr, prop.loc);
    REQUIRE(v0);
    double bound = t % 2 ? v0->s - 0.25 : v0->s + 40;
    prop.body = ctx.binary(ir::BinOp::Le, lhs, ctx.realConst(bound));
    p.properties.push_back(prop);
    PropertyResult r = verifyProperty(p, p.properties.back(), o);
    INFO("case " << t << ": " << verdictName(r.verdict) << " (" << r.method << ") " << r.reason);
    CHECK(r.method.find("network engine") == 0);
    Verdict zv = z3Forall(p.properties.back());
    CHECK(r.verdict == zv);
    holds += r.verdict == Verdict::Holds;
    violated += r.verdict == Verdict::Violated;
  }
  CHECK(holds >= 4);
  CHECK(violated >= 4);

  // A network that is not a chain (a tanh): the Z3 path, whose method says why.
  ir::Program p;
  ir::Context& ctx = p.ctx();
  ir::Function& f = p.addFunction("T", ir::FunctionKind::Network, at(1));
  const ir::Var* x = f.addInput("x", vec(2));
  const ir::Var* y = f.addOutput("y", vec(1));
  ir::Block bl;
  bl.push_back(ctx.stmt<ir::AssignStmt>(
      at(9), y,
      ctx.affine(gridDenseLayer(g, 1, 2),
                 ctx.arrayLit(kReal, {ctx.unary(ir::UnOp::Tanh, ctx.index(x, ctx.intConst(0))),
                                      ctx.index(x, ctx.intConst(1))}))));
  f.setBody(std::move(bl));
  ir::Property prop;
  prop.name = "tanh_net";
  const ir::Var* a = prop.addVar(ctx, "a", kReal, -1, 1);
  const ir::Var* b = prop.addVar(ctx, "b", kReal, -1, 1);
  ir::Expr call = ctx.call(f, {ctx.arrayLit(kReal, {a, b})});
  prop.body = ctx.binary(ir::BinOp::Le,
                         ctx.index(ctx.callResult(call, 0), ctx.intConst(0)), ctx.realConst(1e6));
  p.properties.push_back(prop);
  std::string why;
  CHECK_FALSE(networkQueryOf(p.properties.back(), &why));
  CHECK(why.rfind("n.chs:9:3: error: network 'T' is not a chain of layers: 'tanh(...)'", 0) == 0);
  PropertyResult r = verifyProperty(p, p.properties.back(), o);
  INFO(r.method);
  CHECK(r.verdict == Verdict::Holds);
  CHECK(r.method.find("not the network engine: n.chs:9:3: error:") != std::string::npos);
}
