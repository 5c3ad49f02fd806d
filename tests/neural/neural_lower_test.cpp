// Lowering network files into the core IR: the generated Function (Affine/VecRelu layer nodes)
// is evaluated by a small reference evaluator written here and compared with the Network
// forward pass; signature mismatches and unreadable files are located errors.
#include "neural/lower_network.h"
#include "neural/nnet.h"
#include "neural/onnx.h"

#include <catch2/catch.hpp>

#include <map>

using namespace chassis;
using namespace chassis::neural;

namespace {

std::string data(const std::string& f) {
  return std::string(CHASSIS_SOURCE_DIR) + "/tests/data/acasxu/" + f;
}

using Value = std::vector<double>;

/// Evaluates the expression kinds a lowered network uses.
Value eval(ir::Expr e, const std::map<int, Value>& slots) {
  if (auto v = e->as<ir::Var>()) return slots.at(v->slot());
  if (auto c = e->as<ir::Const>()) return {c->asDouble()};
  if (auto i = e->as<ir::Index>()) {
    Value a = eval(i->array(), slots);
    return {a.at(static_cast<size_t>(eval(i->index(), slots)[0]))};
  }
  if (auto a = e->as<ir::ArrayLit>()) {
    Value out;
    for (ir::Expr x : a->elements())
      out.push_back(eval(x, slots)[0]);
    return out;
  }
  if (auto b = e->as<ir::Binary>()) {
    double l = eval(b->lhs(), slots)[0], r = eval(b->rhs(), slots)[0];
    if (b->op() == ir::BinOp::Min) return {std::min(l, r)};
    if (b->op() == ir::BinOp::Max) return {std::max(l, r)};
    FAIL("unexpected binary operator");
  }
  if (auto a = e->as<ir::Affine>()) {
    Value x = eval(a->input(), slots);
    const ir::DenseLayer& L = a->layer();
    REQUIRE(static_cast<int>(x.size()) == L.cols);
    Value y(L.rows);
    for (int r = 0; r < L.rows; ++r) {
      double s = L.b(r);
      for (int c = 0; c < L.cols; ++c)
        s += L.w(r, c) * x[c];
      y[r] = s;
    }
    return y;
  }
  if (auto r = e->as<ir::VecRelu>()) {
    Value x = eval(r->input(), slots);
    for (double& v : x)
      v = std::max(v, 0.0);
    return x;
  }
  FAIL("unexpected expression kind");
  return {};
}

/// Runs a lowered function: binds the inputs, executes its Let/Assign statements, returns the
/// outputs concatenated.
Value run(const ir::Function& f, const std::vector<Value>& inputs) {
  std::map<int, Value> slots;
  for (size_t k = 0; k < inputs.size(); ++k)
    slots[f.inputs()[k].var->slot()] = inputs[k];
  for (ir::Stmt s : f.body()) {
    if (auto l = s->as<ir::LetStmt>())
      slots[l->var->slot()] = eval(l->value, slots);
    else if (auto a = s->as<ir::AssignStmt>())
      slots[a->var->slot()] = eval(a->value, slots);
    else
      FAIL("unexpected statement kind");
  }
  Value out;
  for (const ir::Var* o : f.outputs()) {
    const Value& v = slots.at(o->slot());
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

spec::VarDecl* param(spec::NetworkDecl& d, const std::string& name, spec::VarKind kind, int n) {
  spec::VarDecl* v = d.newVar(name, d.loc, kind);
  v->type = n == 0 ? spec::Type::real() : spec::Type::array(spec::Type::real(), n);
  (kind == spec::VarKind::Input ? d.inputs : d.outputs).push_back(v);
  return v;
}

void declare(spec::NetworkDecl& d, const std::string& name, spec::NetworkFormat fmt,
             const std::string& path) {
  d.name = name;
  d.format = fmt;
  d.path = path;
  d.resolvedPath = path;
  d.loc = SourceLoc{"t.chs", 3, 1};
  d.pathLoc = SourceLoc{"t.chs", 3, 40};
}

} // namespace

TEST_CASE("an ACAS Xu ONNX network lowers to Affine/VecRelu layer nodes", "[neural][lower]") {
  spec::NetworkDecl d;
  declare(d, "acas", spec::NetworkFormat::Onnx, data("ACASXU_run2a_2_3_batch_2000.onnx"));
  param(d, "x", spec::VarKind::Input, 5);
  param(d, "y", spec::VarKind::Output, 5);
  ir::Program p;
  auto f = networkLoader()(d, p);
  if (!f) FAIL(f.error().str());
  CHECK((*f)->kind() == ir::FunctionKind::Network);
  CHECK((*f)->name() == "acas");
  CHECK(!(*f)->isRandom());
  int affine = 0, relu = 0;
  for (ir::Stmt s : (*f)->body())
    if (auto l = s->as<ir::LetStmt>()) {
      ir::Expr e = l->value;
      if (auto r = e->as<ir::VecRelu>()) {
        ++relu;
        e = r->input();
      }
      affine += e->is<ir::Affine>();
    }
  CHECK(affine == 7);
  CHECK(relu == 6);
  auto net = loadOnnx(data("ACASXU_run2a_2_3_batch_2000.onnx"));
  REQUIRE(net);
  for (int k = 0; k < 10; ++k) {
    Eigen::VectorXd x(5);
    for (int j = 0; j < 5; ++j)
      x[j] = 0.4 * std::sin(2.3 * k + j);
    Value got = run(**f, {Value(x.data(), x.data() + 5)});
    Eigen::VectorXd want = net->forward(x);
    for (int j = 0; j < 5; ++j)
      CHECK(std::abs(got[j] - want[j]) <= 1e-12);
  }
}

TEST_CASE("an NNet network lowers with its clamp and normalisation, split over parameters",
          "[neural][lower]") {
  spec::NetworkDecl d;
  declare(d, "acas", spec::NetworkFormat::NNet, data("nnet/ACASXU_experimental_v2a_1_1.nnet"));
  for (const char* n : {"rho", "theta", "psi", "vown", "vint"})
    param(d, n, spec::VarKind::Input, 0);
  param(d, "coc", spec::VarKind::Output, 0);
  param(d, "turns", spec::VarKind::Output, 4);
  ir::Program p;
  auto f = networkLoader()(d, p);
  if (!f) FAIL(f.error().str());
  CHECK((*f)->outputs().size() == 2);
  auto raw = loadNNet(data("nnet/ACASXU_experimental_v2a_1_1.nnet"), NNetInputs::Raw);
  REQUIRE(raw);
  const double inputs[3][5] = {{70000.0, 0.5, -1.0, 50.0, 600.0}, // clamped above and below
                               {5000.0, -2.0, 3.0, 300.0, 400.0},
                               {20000.0, 0.1, 0.0, 1100.0, 100.0}};
  for (const auto& in : inputs) {
    std::vector<Value> args;
    for (double v : in)
      args.push_back({v});
    Value got = run(**f, args);
    Eigen::VectorXd want = raw->forward(Eigen::VectorXd(Eigen::Map<const Eigen::VectorXd>(in, 5)));
    REQUIRE(got.size() == 5);
    for (int j = 0; j < 5; ++j)
      CHECK(std::abs(got[j] - want[j]) <= 1e-9 * std::max(1.0, std::abs(want[j])));
  }
}

TEST_CASE("lowering errors are located at the declaration", "[neural][lower]") {
  SECTION("wrong input size") {
    spec::NetworkDecl d;
    declare(d, "acas", spec::NetworkFormat::Onnx, data("ACASXU_run2a_1_1_batch_2000.onnx"));
    param(d, "x", spec::VarKind::Input, 4);
    param(d, "y", spec::VarKind::Output, 5);
    ir::Program p;
    auto f = networkLoader()(d, p);
    REQUIRE(!f);
    CHECK(f.error().str() == "t.chs:3:1: error: network 'acas': the file's network takes 5 "
                             "inputs but the declaration gives 4");
  }
  SECTION("wrong output size") {
    spec::NetworkDecl d;
    declare(d, "acas", spec::NetworkFormat::Onnx, data("ACASXU_run2a_1_1_batch_2000.onnx"));
    param(d, "x", spec::VarKind::Input, 5);
    param(d, "y", spec::VarKind::Output, 0);
    ir::Program p;
    auto f = networkLoader()(d, p);
    REQUIRE(!f);
    CHECK(f.error().str() == "t.chs:3:1: error: network 'acas': the file's network gives 5 "
                             "outputs but the declaration takes 1");
  }
  SECTION("unreadable file") {
    spec::NetworkDecl d;
    declare(d, "acas", spec::NetworkFormat::Onnx, "/nonexistent/n.onnx");
    param(d, "x", spec::VarKind::Input, 5);
    param(d, "y", spec::VarKind::Output, 5);
    ir::Program p;
    auto f = networkLoader()(d, p);
    REQUIRE(!f);
    CHECK(f.error().str() ==
          "t.chs:3:40: error: network 'acas': /nonexistent/n.onnx: cannot open file");
  }
  SECTION("a malformed NNet file keeps its line") {
    spec::NetworkDecl d;
    declare(d, "bad", spec::NetworkFormat::NNet, data("../onnx_bad/truncated.onnx"));
    param(d, "x", spec::VarKind::Input, 5);
    param(d, "y", spec::VarKind::Output, 5);
    ir::Program p;
    auto f = networkLoader()(d, p);
    REQUIRE(!f);
    CHECK(f.error().loc.line == 3);
    CHECK(f.error().message.rfind("network 'bad': ", 0) == 0);
    CHECK(f.error().message.find("truncated.onnx:1: bad number") != std::string::npos);
  }
}
