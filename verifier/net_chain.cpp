// The network chain of an IR network function (see net_chain.h for the shape recognised).
#include "verifier/net_chain.h"

#include <cmath>
#include <limits>

namespace chassis::verifier {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::optional<double> realConst(ir::Expr e) {
  if (auto* c = e->as<ir::Const>(); c && e->type().is(ir::ScalarKind::Real)) return c->realValue();
  return std::nullopt;
}
std::optional<int64_t> intConst(ir::Expr e) {
  if (auto* c = e->as<ir::Const>(); c && e->type().is(ir::ScalarKind::Int)) return c->intValue();
  return std::nullopt;
}

/// The input parameter index of variable v in f, or -1.
int inputOf(const ir::Function& f, ir::Expr v) {
  for (size_t k = 0; k < f.inputs().size(); ++k)
    if (f.inputs()[k].var == v) return int(k);
  return -1;
}

/// One element of the input vector: in[k] (scalar) or in[k][i], optionally clamped.
bool inputScalar(const ir::Function& f, ir::Expr e, NetChain& c) {
  double lo = -kInf, hi = kInf;
  if (auto* mn = e->as<ir::Binary>(); mn && mn->op() == ir::BinOp::Min) {
    auto* mx = mn->lhs()->as<ir::Binary>();
    auto h = realConst(mn->rhs());
    if (!mx || mx->op() != ir::BinOp::Max || !h) return false;
    auto l = realConst(mx->rhs());
    if (!l) return false;
    lo = *l;
    hi = *h;
    e = mx->lhs();
  }
  int k = -1, i = -1;
  if (auto* ix = e->as<ir::Index>()) {
    k = inputOf(f, ix->array());
    auto ci = intConst(ix->index());
    if (k < 0 || !ci) return false;
    i = int(*ci);
  } else {
    k = inputOf(f, e);
    if (k < 0 || !e->type().is(ir::ScalarKind::Real)) return false;
  }
  c.inParam.push_back(k);
  c.inElem.push_back(i);
  c.clampLo.push_back(lo);
  c.clampHi.push_back(hi);
  return true;
}

} // namespace

std::optional<NetChain> extractChain(const ir::Function& f) {
  if (f.kind() != ir::FunctionKind::Network) return std::nullopt;
  NetChain c;
  const ir::Block& body = f.body();
  size_t s = 0;
  ir::Expr prev = nullptr; // the variable holding the current layer's output
  // The input vector.
  if (f.inputs().size() == 1 && f.inputs()[0].var->type().isNumericVector() &&
      f.inputs()[0].var->type().scalar == ir::ScalarKind::Real) {
    prev = f.inputs()[0].var;
    for (int i = 0; i < f.inputs()[0].var->type().length(); ++i) {
      c.inParam.push_back(0);
      c.inElem.push_back(i);
      c.clampLo.push_back(-kInf);
      c.clampHi.push_back(kInf);
    }
  }
  if (s < body.size()) {
    auto* let = body[s]->as<ir::LetStmt>();
    auto* lit = let ? let->value->as<ir::ArrayLit>() : nullptr;
    if (lit) {
      c.inParam.clear();
      c.inElem.clear();
      c.clampLo.clear();
      c.clampHi.clear();
      for (ir::Expr el : lit->elements())
        if (!inputScalar(f, el, c)) return std::nullopt;
      prev = let->var;
      ++s;
    }
  }
  if (!prev) return std::nullopt;
  c.head = prev;
  c.net.inputSize = int(c.inParam.size());
  // The layers.
  for (; s < body.size(); ++s) {
    auto* let = body[s]->as<ir::LetStmt>();
    if (!let) break;
    ir::Expr v = let->value;
    bool relu = false;
    if (auto* r = v->as<ir::VecRelu>()) {
      relu = true;
      v = r->input();
    }
    auto* aff = v->as<ir::Affine>();
    if (!aff || aff->input() != prev) return std::nullopt;
    const ir::DenseLayer& L = aff->layer();
    if (L.cols != (c.layers.empty() ? c.net.inputSize : int(c.net.layers.back().W.rows())))
      return std::nullopt;
    neural::AffineLayer al;
    al.W.resize(L.rows, L.cols);
    al.b.resize(L.rows);
    for (int r = 0; r < L.rows; ++r) {
      al.b[r] = L.b(r);
      for (int col = 0; col < L.cols; ++col)
        al.W(r, col) = L.w(r, col);
    }
    al.relu = relu;
    c.net.layers.push_back(std::move(al));
    c.layers.push_back(aff);
    prev = let->var;
  }
  if (c.layers.empty()) return std::nullopt;
  // The outputs.
  c.outIndex.assign(f.outputs().size(), {});
  int nOut = c.net.outputSize();
  auto element = [&](ir::Expr e) -> int {
    auto* ix = e->as<ir::Index>();
    if (!ix || ix->array() != prev) return -1;
    auto ci = intConst(ix->index());
    return ci && *ci >= 0 && *ci < nOut ? int(*ci) : -1;
  };
  for (; s < body.size(); ++s) {
    auto* as = body[s]->as<ir::AssignStmt>();
    if (!as) return std::nullopt;
    int k = -1;
    for (size_t o = 0; o < f.outputs().size(); ++o)
      if (f.outputs()[o] == as->var) k = int(o);
    if (k < 0 || !c.outIndex[size_t(k)].empty()) return std::nullopt;
    std::vector<int>& idx = c.outIndex[size_t(k)];
    if (as->value == prev) {
      for (int j = 0; j < nOut; ++j)
        idx.push_back(j);
    } else if (auto* lit = as->value->as<ir::ArrayLit>()) {
      for (ir::Expr el : lit->elements()) {
        int j = element(el);
        if (j < 0) return std::nullopt;
        idx.push_back(j);
      }
    } else {
      int j = element(as->value);
      if (j < 0) return std::nullopt;
      idx.push_back(j);
    }
    if (idx.size() != as->var->type().numScalars()) return std::nullopt;
  }
  for (const auto& idx : c.outIndex)
    if (idx.empty()) return std::nullopt;
  return c;
}

} // namespace chassis::verifier
