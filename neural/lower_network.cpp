// Network -> IR layer nodes; see lower_network.h for the shape of the generated body and the
// folding of NNet normalisation.
#include "neural/lower_network.h"

#include "neural/nnet.h"
#include "neural/onnx.h"

#include <memory>

namespace chassis::neural {

namespace {

/// The IR type of a network parameter: real or real[N]; nullopt for anything else.
std::optional<ir::Type> paramType(const spec::Type& t) {
  if (t.kind == spec::TypeKind::Real) return ir::Type::real();
  if (t.kind == spec::TypeKind::Array && t.elem == spec::TypeKind::Real && t.length >= 1)
    return ir::Type::array(ir::Type::real(), static_cast<int>(t.length));
  return std::nullopt;
}

} // namespace

std::shared_ptr<const ir::DenseLayer> denseLayer(const AffineLayer& L) {
  auto d = std::make_shared<ir::DenseLayer>();
  d->rows = static_cast<int>(L.W.rows());
  d->cols = static_cast<int>(L.W.cols());
  auto w = std::make_shared<std::vector<double>>(size_t(d->rows) * d->cols);
  for (int r = 0; r < d->rows; ++r)
    for (int c = 0; c < d->cols; ++c)
      (*w)[size_t(r) * d->cols + c] = L.W(r, c);
  d->weights = std::move(w);
  d->bias = std::make_shared<std::vector<double>>(L.b.data(), L.b.data() + L.b.size());
  return d;
}

Expected<const ir::Function*> lowerAffineNet(const AffineNet& net,
                                             const std::optional<InputClamp>& clamp,
                                             const spec::NetworkDecl& decl, ir::Program& program) {
  auto fail = [&](const std::string& m) {
    return Error(decl.loc, "network '" + decl.name + "': " + m);
  };
  std::vector<ir::Type> inTypes, outTypes;
  int nIn = 0, nOut = 0;
  for (const spec::VarDecl* v : decl.inputs) {
    auto t = paramType(v->type);
    if (!t) return fail("input '" + v->name + "' must be real or real[N]");
    nIn += t->isArray() ? t->length() : 1;
    inTypes.push_back(*t);
  }
  for (const spec::VarDecl* v : decl.outputs) {
    auto t = paramType(v->type);
    if (!t) return fail("output '" + v->name + "' must be real or real[N]");
    nOut += t->isArray() ? t->length() : 1;
    outTypes.push_back(*t);
  }
  if (nIn != net.inputSize)
    return fail("the file's network takes " + std::to_string(net.inputSize) +
                " inputs but the declaration gives " + std::to_string(nIn));
  if (nOut != net.outputSize())
    return fail("the file's network gives " + std::to_string(net.outputSize()) +
                " outputs but the declaration takes " + std::to_string(nOut));

  ir::Context& cx = program.ctx();
  ir::Function& f = program.addFunction(decl.name, ir::FunctionKind::Network, decl.loc);
  f.doc = decl.doc;
  std::vector<const ir::Var*> ins, outs;
  for (size_t k = 0; k < decl.inputs.size(); ++k)
    ins.push_back(f.addInput(decl.inputs[k]->name, inTypes[k]));
  for (size_t k = 0; k < decl.outputs.size(); ++k)
    outs.push_back(f.addOutput(decl.outputs[k]->name, outTypes[k]));

  ir::Block body;
  const SourceLoc loc = decl.loc;
  const ir::Type vecIn = ir::Type::array(ir::Type::real(), net.inputSize);
  // The input vector: the single real[N] input itself, else the concatenation (clamped).
  ir::Expr x;
  if (ins.size() == 1 && inTypes[0] == vecIn && !clamp) {
    x = ins[0];
  } else {
    std::vector<ir::Expr> elems;
    for (size_t k = 0; k < ins.size(); ++k) {
      if (inTypes[k].isArray())
        for (int j = 0; j < inTypes[k].length(); ++j)
          elems.push_back(cx.index(ins[k], cx.intConst(j)));
      else
        elems.push_back(ins[k]);
    }
    if (clamp)
      for (size_t j = 0; j < elems.size(); ++j)
        elems[j] = cx.binary(ir::BinOp::Min,
                             cx.binary(ir::BinOp::Max, elems[j], cx.realConst(clamp->lo[j])),
                             cx.realConst(clamp->hi[j]));
    const ir::Var* xv = f.newVar("x", vecIn, ir::VarRole::Local);
    body.push_back(cx.stmt<ir::LetStmt>(loc, xv, cx.arrayLit(ir::Type::real(), elems)));
    x = xv;
  }
  ir::Expr h = x;
  for (size_t l = 0; l < net.layers.size(); ++l) {
    const AffineLayer& L = net.layers[l];
    auto a = cx.tryAffine(denseLayer(L), h);
    if (!a) return fail(a.error().message);
    ir::Expr e = *a;
    if (L.relu) e = cx.vecRelu(e);
    const ir::Var* hv = f.newVar("h" + std::to_string(l + 1), e->type(), ir::VarRole::Local);
    body.push_back(cx.stmt<ir::LetStmt>(loc, hv, e));
    h = hv;
  }
  if (net.layers.empty() && h->type() != ir::Type::array(ir::Type::real(), nOut))
    return fail("an empty network"); // unreachable: sizes match above
  // Split the output vector over the declared outputs.
  int pos = 0;
  for (size_t k = 0; k < outs.size(); ++k) {
    ir::Expr v;
    if (!outTypes[k].isArray()) {
      v = cx.index(h, cx.intConst(pos++));
    } else if (outs.size() == 1) {
      v = h;
      pos += outTypes[k].length();
    } else {
      std::vector<ir::Expr> elems;
      for (int j = 0; j < outTypes[k].length(); ++j)
        elems.push_back(cx.index(h, cx.intConst(pos++)));
      v = cx.arrayLit(ir::Type::real(), elems);
    }
    body.push_back(cx.stmt<ir::AssignStmt>(loc, outs[k], v));
  }
  f.setBody(std::move(body));
  return &f;
}

ir::NetworkLoader networkLoader() {
  return [](const spec::NetworkDecl& d, ir::Program& program) -> Expected<const ir::Function*> {
    const std::string path = d.resolvedPath.empty() ? d.path : d.resolvedPath;
    // The file's own error (path:line: message) reported at the declaration's path literal.
    auto relocate = [&](const Error& e) {
      std::string where = e.loc.file.empty() ? path : e.loc.file;
      if (e.loc.line > 0) where += ":" + std::to_string(e.loc.line);
      return Error(d.pathLoc, "network '" + d.name + "': " + where + ": " + e.message);
    };
    if (d.format == spec::NetworkFormat::NNet) {
      auto f = readNNet(path);
      if (!f) return relocate(f.error());
      const int n = f->layerSizes.front();
      AffineNet an = *toAffineNet(f->toNetwork(NNetInputs::Normalised, path));
      // Fold the normalisation into the first layer and the output scaling into the last.
      Eigen::VectorXd mean(n), range(n);
      for (int i = 0; i < n; ++i) {
        mean[i] = f->means[i];
        range[i] = f->ranges[i];
      }
      AffineLayer& first = an.layers.front();
      first.b -= first.W * mean.cwiseQuotient(range);
      first.W = first.W * range.cwiseInverse().asDiagonal();
      AffineLayer& last = an.layers.back();
      last.W *= f->ranges[n];
      last.b = last.b * f->ranges[n] + Eigen::VectorXd::Constant(last.b.size(), f->means[n]);
      InputClamp c{Eigen::Map<const Eigen::VectorXd>(f->mins.data(), n),
                   Eigen::Map<const Eigen::VectorXd>(f->maxs.data(), n)};
      return lowerAffineNet(an, c, d, program);
    }
    auto net = loadOnnx(path);
    if (!net) return relocate(net.error());
    auto an = toAffineNet(*net);
    if (!an) return relocate(an.error());
    return lowerAffineNet(*an, std::nullopt, d, program);
  };
}

} // namespace chassis::neural
