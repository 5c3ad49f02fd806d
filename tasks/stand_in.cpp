// A network standing in for a module's output (see stand_in.h).
#include "tasks/stand_in.h"

#include "neural/lower_network.h"
#include "spec/lower.h"

#include <memory>

namespace chassis::tasks {
namespace {

/// A scalar input value as the real the network reads (the dataset's encoding).
ir::Expr encodeScalar(ir::Context& cx, ir::Expr v) {
  const ir::Type& t = v->type();
  switch (t.scalar) {
  case ir::ScalarKind::Real:
    return v;
  case ir::ScalarKind::Int:
    return cx.unary(ir::UnOp::ToReal, v);
  case ir::ScalarKind::Bool:
    return cx.select(v, cx.realConst(1.0), cx.realConst(0.0));
  case ir::ScalarKind::Enum: {
    const int n = int(cx.enums()[t.enumId].constants.size());
    ir::Expr e = cx.realConst(double(n - 1));
    for (int k = n - 2; k >= 0; --k)
      e = cx.select(cx.binary(ir::BinOp::Eq, v, cx.enumConst(t.enumId, k)), cx.realConst(double(k)),
                    e);
    return e;
  }
  case ir::ScalarKind::Tuple:
    break;
  }
  return v;
}

/// Appends the scalars of `v` (a scalar or an array, row-major) to `out`, encoded.
void flatten(ir::Context& cx, ir::Expr v, std::vector<ir::Expr>& out) {
  if (!v->type().isArray()) {
    out.push_back(encodeScalar(cx, v));
    return;
  }
  for (int i = 0; i < v->type().length(); ++i)
    flatten(cx, cx.index(v, cx.intConst(i)), out);
}

} // namespace

std::vector<std::string> featureColumns(const ir::Function& R) {
  std::vector<std::string> cols;
  for (const ir::Param& p : R.inputs()) {
    const ir::Type& t = p.var->type();
    if (!t.isArray()) {
      cols.push_back(p.var->name());
      continue;
    }
    for (size_t i = 0; i < t.numScalars(); ++i)
      cols.push_back(p.var->name() + "[" + std::to_string(i) + "]");
  }
  return cols;
}

Expected<ir::Program> lowerWithStandIn(const spec::Program& ast, const std::string& module,
                                       const std::string& output, const neural::AffineNet& net) {
  ir::LowerOptions lo;
  lo.networkLoader = neural::networkLoader();
  ir::ModuleReplacement rep;
  rep.module = module;
  rep.build = [&](const ir::Function& R, ir::Program& prog) -> Expected<const ir::Function*> {
    ir::Context& cx = prog.ctx();
    const int outIndex = R.outputIndex(output);
    if (outIndex < 0)
      return Error(R.loc(), "module '" + module + "' has no output '" + output + "'");
    const ir::Type labelType = R.outputs()[outIndex]->type();
    const size_t columns = featureColumns(R).size();
    if (int(columns) != net.inputSize)
      return Error(R.loc(), "the network takes " + std::to_string(net.inputSize) +
                                " inputs but module '" + module + "' has " +
                                std::to_string(columns) + " input values");
    const int netOut = net.outputSize();
    if (labelType.is(ir::ScalarKind::Int) || labelType.isArray())
      return Error(R.loc(), "label '" + module + "." + output + "' has type " +
                                cx.typeName(labelType) +
                                ": a network can stand in only for a bool, enum or real output");
    if (labelType.is(ir::ScalarKind::Enum) &&
        netOut != int(cx.enums()[labelType.enumId].constants.size()))
      return Error(R.loc(), "label '" + module + "." + output + "' has " +
                                std::to_string(cx.enums()[labelType.enumId].constants.size()) +
                                " constants but the network has " + std::to_string(netOut) +
                                " outputs");
    if (labelType.is(ir::ScalarKind::Bool) && netOut != 1 && netOut != 2)
      return Error(R.loc(), "a bool label needs a network with 2 outputs (logits of false, true) "
                            "or 1 (its sign); this one has " +
                                std::to_string(netOut));
    if (labelType.is(ir::ScalarKind::Real) && netOut != 1)
      return Error(R.loc(), "a real label needs a network with 1 output; this one has " +
                                std::to_string(netOut));

    ir::Function& f = prog.addFunction(module, ir::FunctionKind::Module, R.loc());
    f.doc = "network standing in for " + module + "." + output;
    std::vector<ir::Expr> args;
    for (const ir::Param& p : R.inputs())
      args.push_back(f.addInput(p.var->name(), p.var->type(), p.range));
    std::vector<const ir::Var*> outs;
    for (const ir::Var* o : R.outputs())
      outs.push_back(f.addOutput(o->name(), o->type()));

    ir::Block body;
    const SourceLoc loc = R.loc();
    std::vector<ir::Expr> xs;
    for (ir::Expr a : args)
      flatten(cx, a, xs);
    ir::Expr h = cx.arrayLit(ir::Type::real(), xs);
    const ir::Var* xv = f.newVar("x", h->type(), ir::VarRole::Local);
    body.push_back(cx.stmt<ir::LetStmt>(loc, xv, h));
    h = xv;
    for (size_t l = 0; l < net.layers.size(); ++l) {
      ir::Expr z = cx.affine(neural::denseLayer(net.layers[l]), h);
      if (net.layers[l].relu) z = cx.vecRelu(z);
      const ir::Var* hv = f.newVar("h" + std::to_string(l + 1), z->type(), ir::VarRole::Local);
      body.push_back(cx.stmt<ir::LetStmt>(loc, hv, z));
      h = hv;
    }
    auto y = [&](int i) { return cx.index(h, cx.intConst(i)); };
    ir::Expr decision;
    if (labelType.is(ir::ScalarKind::Bool))
      decision = netOut == 2 ? cx.binary(ir::BinOp::Gt, y(1), y(0))
                             : cx.binary(ir::BinOp::Gt, y(0), cx.realConst(0.0));
    else if (labelType.is(ir::ScalarKind::Enum)) {
      ir::Expr am = cx.unary(ir::UnOp::Argmax, h);
      const int n = netOut;
      decision = cx.enumConst(labelType.enumId, n - 1);
      for (int k = n - 2; k >= 0; --k)
        decision = cx.select(cx.binary(ir::BinOp::Eq, am, cx.intConst(k)),
                             cx.enumConst(labelType.enumId, k), decision);
    } else
      decision = y(0);

    ir::Expr call = nullptr;
    for (size_t k = 0; k < outs.size(); ++k) {
      ir::Expr v = decision;
      if (int(k) != outIndex) {
        if (!call) call = cx.call(R, args);
        v = cx.callResult(call, int(k));
      }
      body.push_back(cx.stmt<ir::AssignStmt>(loc, outs[k], v));
    }
    f.setBody(std::move(body));
    return &f;
  };
  lo.replaceModule = std::move(rep);
  return ir::lower(ast, lo);
}

} // namespace chassis::tasks
