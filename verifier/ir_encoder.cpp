// The IR -> Z3 encoder (see ir_encoder.h for the encoding of each construct and its maths).
// Interval enclosures carried alongside the terms are rounded outward with nextafter after every
// floating-point operation, so they contain the real value of the term on the assumed domain;
// network layers get theirs from verifier/bounds.h, transcendental functions from
// verifier/enclosures.h.
#include "verifier/ir_encoder.h"

#include "symbolic/dist_traits.h"
#include "symbolic/distributions.h"
#include "symbolic/special.h"
#include "verifier/bounds.h"
#include "verifier/enclosures.h"
#include "verifier/net_chain.h"

#include <cmath>
#include <limits>
#include <set>

namespace chassis::verifier {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double down(double x) {
  return std::isfinite(x) ? std::nextafter(x, -kInf) : x;
}
double up(double x) {
  return std::isfinite(x) ? std::nextafter(x, kInf) : x;
}

/// Interval [a, b] + [c, d], outward.
std::pair<double, double> iadd(double a, double b, double c, double d) {
  double lo = a + c, hi = b + d;
  if (std::isnan(lo)) lo = -kInf;
  if (std::isnan(hi)) hi = kInf;
  return {down(lo), up(hi)};
}
/// Interval [a, b] * [c, d], outward (0 * inf taken as unknown).
std::pair<double, double> imul(double a, double b, double c, double d) {
  double ps[4] = {a * c, a * d, b * c, b * d};
  double lo = kInf, hi = -kInf;
  for (double p : ps) {
    if (std::isnan(p)) return {-kInf, kInf};
    lo = std::min(lo, p);
    hi = std::max(hi, p);
  }
  return {down(lo), up(hi)};
}

/// Decimal digits of a non-negative big integer held in base 1e9 limbs (least significant first).
std::string bigToString(const std::vector<uint32_t>& limbs) {
  std::string s = std::to_string(limbs.back());
  for (size_t i = limbs.size() - 1; i-- > 0;) {
    std::string part = std::to_string(limbs[i]);
    s += std::string(9 - part.size(), '0') + part;
  }
  return s;
}
std::vector<uint32_t> bigFromU64(uint64_t v) {
  std::vector<uint32_t> r;
  do {
    r.push_back(uint32_t(v % 1000000000u));
    v /= 1000000000u;
  } while (v);
  return r;
}
void bigDouble(std::vector<uint32_t>& x) {
  uint32_t carry = 0;
  for (uint32_t& l : x) {
    uint64_t v = uint64_t(l) * 2 + carry;
    l = uint32_t(v % 1000000000u);
    carry = uint32_t(v / 1000000000u);
  }
  if (carry) x.push_back(carry);
}

} // namespace

std::string exactFraction(double v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  int e = 0;
  double f = std::frexp(std::fabs(v), &e);       // |v| = f 2^e, f in [0.5, 1)
  uint64_t m = uint64_t(std::ldexp(f, 64 - 11)); // 53 significant bits, exact
  e -= 53;
  while (m % 2 == 0 && e < 0) {
    m /= 2;
    ++e;
  }
  std::vector<uint32_t> num = bigFromU64(m), den = bigFromU64(1);
  for (int i = 0; i < e; ++i)
    bigDouble(num);
  for (int i = 0; i < -e; ++i)
    bigDouble(den);
  std::string s = (neg ? "-" : "") + bigToString(num);
  if (e < 0) s += "/" + bigToString(den);
  return s;
}

z3::expr IrEncoder::realNumeral(double v) {
  // No rational is an infinity or NaN; guard() reports this like any Z3 error.
  if (!std::isfinite(v)) throw z3::exception("a NaN or infinite constant has no exact rational");
  std::string s = exactFraction(v);
  if (s[0] == '-') return -ctx_.real_val(s.c_str() + 1);
  return ctx_.real_val(s.c_str());
}

Status IrEncoder::guard(const std::function<Status()>& body) {
  try {
    return body();
  } catch (const z3::exception& e) {
    return Error(std::string("Z3: ") + e.msg());
  }
}

namespace {

z3::sort sortOf(z3::context& c, const ir::Type& t) {
  switch (t.scalar) {
  case ir::ScalarKind::Bool:
    return c.bool_sort();
  case ir::ScalarKind::Real:
    return c.real_sort();
  default:
    return c.int_sort();
  }
}

SymValue scalar(z3::expr e, double lo = -kInf, double hi = kInf) {
  SymValue v;
  v.e.push_back(e);
  v.lo.push_back(lo);
  v.hi.push_back(hi);
  return v;
}

/// The constant value of a term, when it simplifies to a numeral.
std::optional<int64_t> constInt(const z3::expr& e) {
  z3::expr s = e.simplify();
  int64_t v = 0;
  if (s.is_numeral() && s.is_numeral_i64(v)) return v;
  if (s.is_true()) return 1;
  if (s.is_false()) return 0;
  return std::nullopt;
}

} // namespace

/// The expression visitor: one method per IR node kind (ir_nodes.def).
class ExprEnc : public ir::ExprVisitor<Expected<SymValue>> {
public:
  ExprEnc(IrEncoder& enc, IrEncoder::Frame& fr) : enc_(enc), fr_(fr), c_(enc.ctx_) {}

protected:
  Expected<SymValue> sub(ir::Expr e) { return enc_.encodeIn(e, fr_); }

  Expected<SymValue> visitConst(const ir::Const& n) override {
    switch (n.type().scalar) {
    case ir::ScalarKind::Bool:
      return scalar(c_.bool_val(n.boolValue()), n.asDouble(), n.asDouble());
    case ir::ScalarKind::Real: {
      double v = n.realValue();
      return scalar(enc_.realNumeral(v), v, v);
    }
    default: {
      double v = double(n.intValue());
      return scalar(c_.int_val(n.intValue()), v, v);
    }
    }
  }
  Expected<SymValue> visitVar(const ir::Var& n) override {
    auto it = fr_.vars.find(&n);
    if (it == fr_.vars.end())
      return Error("internal: variable '" + n.name() + "' read before it is bound");
    return it->second;
  }
  Expected<SymValue> visitUnary(const ir::Unary& n) override {
    auto a = sub(n.arg());
    if (!a) return a;
    const z3::expr& x = a->e.empty() ? c_.bool_val(true) : a->e[0];
    double lo = a->lo.empty() ? -kInf : a->lo[0], hi = a->hi.empty() ? kInf : a->hi[0];
    switch (n.op()) {
    case ir::UnOp::Neg:
      return scalar(-x, -hi, -lo);
    case ir::UnOp::Not:
      return scalar(!x);
    case ir::UnOp::ToReal:
      return scalar(z3::to_real(x), lo, hi);
    case ir::UnOp::Abs: {
      double alo = lo >= 0 ? lo : hi <= 0 ? -hi : 0, ahi = std::max(std::fabs(lo), std::fabs(hi));
      if (lo >= 0) return scalar(x, lo, hi);
      if (hi <= 0) return scalar(-x, -hi, -lo);
      return scalar(z3::ite(x >= 0, x, -x), alo, ahi);
    }
    case ir::UnOp::Relu:
      return relu(x, lo, hi, n.type().is(ir::ScalarKind::Real));
    case ir::UnOp::Exp:
    case ir::UnOp::Log:
    case ir::UnOp::Sigmoid:
    case ir::UnOp::Tanh:
    case ir::UnOp::Sqrt: {
      int fn = n.op() == ir::UnOp::Exp       ? int(EnclosedFn::Exp)
               : n.op() == ir::UnOp::Log     ? int(EnclosedFn::Log)
               : n.op() == ir::UnOp::Sigmoid ? int(EnclosedFn::Sigmoid)
               : n.op() == ir::UnOp::Tanh    ? int(EnclosedFn::Tanh)
                                             : 4;
      if (!enc_.relaxOn_ && (fn != 4 || !(lo >= 0)))
        return Error("nonlinear function '" + std::string(ir::spelling(n.op())) +
                     (fn == 4 ? "' of a possibly negative argument" : "'") +
                     " is not supported here (its sound enclosure is a relaxation, used only "
                     "where candidates are replayed)");
      return enc_.enclosed(fn, x.is_int() ? z3::to_real(x) : x, lo, hi);
    }
    case ir::UnOp::Sum: {
      bool isReal = n.type().is(ir::ScalarKind::Real);
      z3::expr s = isReal ? c_.real_val(0) : c_.int_val(0);
      double slo = 0, shi = 0;
      for (size_t i = 0; i < a->e.size(); ++i) {
        s = i == 0 ? a->e[0] : s + a->e[i];
        std::tie(slo, shi) = iadd(slo, shi, a->lo[i], a->hi[i]);
      }
      return scalar(s, slo, shi);
    }
    case ir::UnOp::Argmax: {
      // The first index of the maximum: i is chosen iff x_i > x_j (j < i), x_i >= x_j (j > i).
      size_t len = a->e.size();
      z3::expr r = c_.int_val(int64_t(len) - 1);
      for (size_t i = len - 1; i-- > 0;) {
        z3::expr cond = c_.bool_val(true);
        for (size_t j = 0; j < len; ++j) {
          if (j < i) cond = cond && a->e[i] > a->e[j];
          if (j > i) cond = cond && a->e[i] >= a->e[j];
        }
        r = z3::ite(cond, c_.int_val(int64_t(i)), r);
      }
      return scalar(r, 0, double(len) - 1);
    }
    }
    return Error("internal: unknown unary operator");
  }

  Expected<SymValue> relu(const z3::expr& x, double lo, double hi, bool isReal) {
    z3::expr zero = isReal ? c_.real_val(0) : c_.int_val(0);
    if (lo >= 0) return scalar(x, lo, hi);  // stable active: linear
    if (hi <= 0) return scalar(zero, 0, 0); // stable inactive
    return scalar(z3::ite(x >= zero, x, zero), 0, std::max(0.0, hi));
  }

  Expected<SymValue> visitBinary(const ir::Binary& n) override {
    auto a = sub(n.lhs());
    if (!a) return a;
    auto b = sub(n.rhs());
    if (!b) return b;
    if (n.op() == ir::BinOp::Dot) {
      bool isReal = n.type().is(ir::ScalarKind::Real);
      z3::expr s = isReal ? c_.real_val(0) : c_.int_val(0);
      double slo = 0, shi = 0;
      for (size_t i = 0; i < a->e.size(); ++i) {
        s = s + a->e[i] * b->e[i];
        auto [plo, phi] = imul(a->lo[i], a->hi[i], b->lo[i], b->hi[i]);
        std::tie(slo, shi) = iadd(slo, shi, plo, phi);
      }
      return scalar(s.simplify(), slo, shi);
    }
    const z3::expr &x = a->e[0], &y = b->e[0];
    double al = a->lo[0], ah = a->hi[0], bl = b->lo[0], bh = b->hi[0];
    bool isInt = n.lhs()->type().is(ir::ScalarKind::Int);
    switch (n.op()) {
    case ir::BinOp::Add: {
      auto [lo, hi] = iadd(al, ah, bl, bh);
      return scalar(x + y, lo, hi);
    }
    case ir::BinOp::Sub: {
      auto [lo, hi] = iadd(al, ah, -bh, -bl);
      return scalar(x - y, lo, hi);
    }
    case ir::BinOp::Mul: {
      auto [lo, hi] = imul(al, ah, bl, bh);
      return scalar(x * y, lo, hi);
    }
    case ir::BinOp::Div: {
      if (!isInt) return scalar(x / y);
      // Truncation toward zero from Z3's Euclidean division of the absolute values.
      z3::expr ax = z3::ite(x >= 0, x, -x), ay = z3::ite(y >= 0, y, -y);
      z3::expr q = ax / ay;
      return scalar(z3::ite((x >= 0) == (y >= 0), q, -q));
    }
    case ir::BinOp::Mod: {
      z3::expr ax = z3::ite(x >= 0, x, -x), ay = z3::ite(y >= 0, y, -y);
      z3::expr q = ax / ay;
      z3::expr tq = z3::ite((x >= 0) == (y >= 0), q, -q);
      return scalar(x - y * tq);
    }
    case ir::BinOp::Min:
      return scalar(z3::ite(x <= y, x, y), std::min(al, bl), std::min(ah, bh));
    case ir::BinOp::Max:
      return scalar(z3::ite(x >= y, x, y), std::max(al, bl), std::max(ah, bh));
    case ir::BinOp::Dot:
      break; // handled above
    case ir::BinOp::Eq:
      return scalar(x == y);
    case ir::BinOp::Ne:
      return scalar(x != y);
    case ir::BinOp::Lt:
      return scalar(x < y);
    case ir::BinOp::Le:
      return scalar(x <= y);
    case ir::BinOp::Gt:
      return scalar(x > y);
    case ir::BinOp::Ge:
      return scalar(x >= y);
    case ir::BinOp::And:
      return scalar(x && y);
    case ir::BinOp::Or:
      return scalar(x || y);
    case ir::BinOp::Implies:
      return scalar(z3::implies(x, y));
    }
    return Error("internal: unknown binary operator");
  }
  Expected<SymValue> visitSelect(const ir::Select& n) override {
    auto c = sub(n.cond());
    if (!c) return c;
    if (auto k = constInt(c->e[0])) return sub(*k ? n.ifTrue() : n.ifFalse());
    auto a = sub(n.ifTrue());
    if (!a) return a;
    auto b = sub(n.ifFalse());
    if (!b) return b;
    SymValue r;
    for (size_t i = 0; i < a->e.size(); ++i) {
      r.e.push_back(z3::ite(c->e[0], a->e[i], b->e[i]));
      r.lo.push_back(std::min(a->lo[i], b->lo[i]));
      r.hi.push_back(std::max(a->hi[i], b->hi[i]));
    }
    return r;
  }
  Expected<SymValue> visitArrayLit(const ir::ArrayLit& n) override {
    SymValue r;
    for (ir::Expr el : n.elements()) {
      auto v = sub(el);
      if (!v) return v;
      r.e.insert(r.e.end(), v->e.begin(), v->e.end());
      r.lo.insert(r.lo.end(), v->lo.begin(), v->lo.end());
      r.hi.insert(r.hi.end(), v->hi.begin(), v->hi.end());
    }
    return r;
  }
  Expected<SymValue> visitIndex(const ir::Index& n) override {
    auto a = sub(n.array());
    if (!a) return a;
    auto i = sub(n.index());
    if (!i) return i;
    size_t len = size_t(n.array()->type().length()), stride = len ? a->e.size() / len : 0;
    SymValue r;
    if (auto k = constInt(i->e[0])) {
      if (*k < 0 || size_t(*k) >= len)
        return Error("index " + std::to_string(*k) + " out of range");
      for (size_t j = 0; j < stride; ++j) {
        r.e.push_back(a->e[size_t(*k) * stride + j]);
        r.lo.push_back(a->lo[size_t(*k) * stride + j]);
        r.hi.push_back(a->hi[size_t(*k) * stride + j]);
      }
      return r;
    }
    // A symbolic index: an ite chain (an index out of range is an interpreter error; here it
    // reads the last element, so such a point does not replay and is reported as a bug).
    for (size_t j = 0; j < stride; ++j) {
      z3::expr v = a->e[(len - 1) * stride + j];
      double lo = kInf, hi = -kInf;
      for (size_t k = 0; k < len; ++k) {
        lo = std::min(lo, a->lo[k * stride + j]);
        hi = std::max(hi, a->hi[k * stride + j]);
      }
      for (size_t k = len - 1; k-- > 0;)
        v = z3::ite(i->e[0] == c_.int_val(int64_t(k)), a->e[k * stride + j], v);
      r.e.push_back(v);
      r.lo.push_back(lo);
      r.hi.push_back(hi);
    }
    return r;
  }
  Expected<SymValue> visitUpdate(const ir::Update& n) override {
    auto a = sub(n.array());
    if (!a) return a;
    auto i = sub(n.index());
    if (!i) return i;
    auto v = sub(n.value());
    if (!v) return v;
    size_t len = size_t(n.array()->type().length()), stride = len ? a->e.size() / len : 0;
    SymValue r = *a;
    auto k = constInt(i->e[0]);
    for (size_t p = 0; p < len; ++p) {
      if (k && int64_t(p) != *k) continue;
      for (size_t j = 0; j < stride; ++j) {
        size_t at = p * stride + j;
        if (k) {
          r.e[at] = v->e[j];
          r.lo[at] = v->lo[j];
          r.hi[at] = v->hi[j];
        } else {
          r.e[at] = z3::ite(i->e[0] == c_.int_val(int64_t(p)), v->e[j], a->e[at]);
          r.lo[at] = std::min(a->lo[at], v->lo[j]);
          r.hi[at] = std::max(a->hi[at], v->hi[j]);
        }
      }
    }
    return r;
  }
  Expected<SymValue> visitCall(const ir::Call&) override {
    return Error("internal: a call's tuple is read through CallResult");
  }
  Expected<SymValue> visitCallResult(const ir::CallResult& n) override {
    const ir::Call& call = n.call();
    auto it = fr_.calls.find(&call);
    if (it == fr_.calls.end()) {
      std::vector<SymValue> args;
      for (ir::Expr arg : call.args()) {
        auto v = sub(arg);
        if (!v) return v;
        args.push_back(std::move(*v));
      }
      auto outs = enc_.callIn(call.callee(), std::move(args), fr_, fr_.prefix);
      if (!outs) return outs.error();
      it = fr_.calls.emplace(&call, std::move(*outs)).first;
    }
    return it->second[size_t(n.index())];
  }
  Expected<SymValue> visitAffine(const ir::Affine& n) override {
    auto x = sub(n.input());
    if (!x) return x;
    const ir::DenseLayer& L = n.layer();
    auto [blo, bhi] = layerBounds(n, *x);
    SymValue r;
    for (int row = 0; row < L.rows; ++row) {
      z3::expr s = enc_.realNumeral(L.b(row));
      for (int col = 0; col < L.cols; ++col) {
        double w = L.w(row, col);
        if (w == 0) continue;
        s = s + enc_.realNumeral(w) * x->e[size_t(col)];
      }
      r.e.push_back(s);
      r.lo.push_back(blo.empty() ? -kInf : blo[size_t(row)]);
      r.hi.push_back(bhi.empty() ? kInf : bhi[size_t(row)]);
    }
    return r;
  }

  /// Sound bounds of the layer's output from verifier/bounds.h: for the first layer of the
  /// frame's network chain, symbolic bounds of every layer of the chain (kept in fr_.preBounds
  /// for the later layers: a network's variables are bound once); for any other layer, interval
  /// bounds of that one layer. Empty (no bound) when the input box is not finite.
  using Bounds = std::pair<std::vector<double>, std::vector<double>>;
  Bounds layerBounds(const ir::Affine& n, const SymValue& x) {
    if (auto it = fr_.preBounds.find(&n); it != fr_.preBounds.end()) return it->second;
    Box box;
    box.lo.resize(Eigen::Index(x.lo.size()));
    box.hi.resize(Eigen::Index(x.hi.size()));
    for (size_t i = 0; i < x.lo.size(); ++i) {
      if (!std::isfinite(x.lo[i]) || !std::isfinite(x.hi[i])) return {};
      box.lo[Eigen::Index(i)] = x.lo[i];
      box.hi[Eigen::Index(i)] = x.hi[i];
    }
    auto toVec = [&](const NetBounds& nb, size_t k) {
      std::vector<double> lo(nb.lo[k].data(), nb.lo[k].data() + nb.lo[k].size());
      std::vector<double> hi(nb.hi[k].data(), nb.hi[k].data() + nb.hi[k].size());
      for (size_t i = 0; i < lo.size(); ++i)
        if (std::isnan(lo[i]) || std::isnan(hi[i])) lo[i] = -kInf, hi[i] = kInf;
      return Bounds{std::move(lo), std::move(hi)};
    };
    const NetChain* ch = fr_.chain.get();
    // The chain's first layer must be this node reading the network's inputs in order (then
    // x's box is the net's input box); a later layer that is not one Affine node has no entry.
    if (ch && ch->layers.front() == &n && int(x.lo.size()) == ch->net.inputSize) {
      NetBounds nb = symbolicBounds(ch->net, box);
      if (!nb.infeasible && nb.lo.size() == ch->layers.size()) {
        for (size_t k = 0; k < ch->layers.size(); ++k)
          if (ch->layers[k]) fr_.preBounds[ch->layers[k]] = toVec(nb, k);
        return fr_.preBounds[&n];
      }
    }
    const ir::DenseLayer& L = n.layer();
    neural::AffineNet one;
    one.inputSize = L.cols;
    neural::AffineLayer al;
    al.W.resize(L.rows, L.cols);
    al.b.resize(L.rows);
    for (int r = 0; r < L.rows; ++r) {
      al.b[r] = L.b(r);
      for (int c = 0; c < L.cols; ++c)
        al.W(r, c) = L.w(r, c);
    }
    one.layers.push_back(std::move(al));
    NetBounds nb = intervalBounds(one, box);
    if (nb.lo.size() != 1) return {};
    return toVec(nb, 0);
  }
  Expected<SymValue> visitVecRelu(const ir::VecRelu& n) override {
    auto x = sub(n.input());
    if (!x) return x;
    SymValue r;
    for (size_t i = 0; i < x->e.size(); ++i) {
      auto v = relu(x->e[i], x->lo[i], x->hi[i], true);
      r.e.push_back(v->e[0]);
      r.lo.push_back(v->lo[0]);
      r.hi.push_back(v->hi[0]);
    }
    return r;
  }

private:
  IrEncoder& enc_;
  IrEncoder::Frame& fr_;
  z3::context& c_;
};

Expected<SymValue> IrEncoder::encodeIn(ir::Expr e, Frame& fr) {
  if (auto it = fr.memo.find(e); it != fr.memo.end()) return it->second;
  ExprEnc v(*this, fr);
  auto r = v.visit(e);
  if (r) fr.memo.emplace(e, *r);
  return r;
}

Expected<SymValue> IrEncoder::encode(ir::Expr e) {
  return encodeIn(e, top_);
}

std::shared_ptr<const NetChain> IrEncoder::chainOf(const ir::Function& f) {
  auto it = chains_.find(&f);
  if (it != chains_.end()) return it->second;
  std::shared_ptr<const NetChain> c;
  if (auto ch = extractChain(f)) c = std::make_shared<const NetChain>(std::move(*ch));
  chains_[&f] = c;
  return c;
}

void IrEncoder::define(const z3::expr& c) {
  assumptions_.push_back(c);
  definitions_.push_back(c);
}

std::vector<z3::expr> IrEncoder::conditions() const {
  std::set<unsigned> defs;
  for (const z3::expr& d : definitions_)
    defs.insert(d.id());
  std::vector<z3::expr> out;
  for (const z3::expr& a : assumptions_)
    if (!defs.count(a.id())) out.push_back(a);
  return out;
}

SymValue IrEncoder::enclosed(int fn, const z3::expr& x, double lo, double hi) {
  auto key = std::make_pair(fn, x.id());
  if (auto it = encCache_.find(key); it != encCache_.end()) {
    const Occurrence& o = occurrences_[size_t(fn)][it->second];
    SymValue v;
    v.e.push_back(o.y);
    v.lo.push_back(o.lo);
    v.hi.push_back(o.hi);
    return v;
  }
  static const char* names[] = {"exp", "log", "sigmoid", "tanh", "sqrt"};
  std::string nm = std::string(names[fn]) + "!" + std::to_string(fresh_++);
  z3::expr y = ctx_.real_const(nm.c_str());
  double ylo, yhi;
  if (fn == 4) {
    // sqrt, exactly: where x >= 0, y >= 0 and y*y = x. IEEE sqrt is correctly rounded, so one
    // nextafter each way encloses the real root.
    define(z3::implies(x >= 0, y >= 0 && y * y == x));
    ylo = lo > 0 && std::isfinite(lo) ? std::nextafter(std::sqrt(lo), 0.0) : 0.0;
    yhi = hi >= 0 ? (std::isfinite(hi) ? std::nextafter(std::sqrt(hi), kInf) : kInf) : kInf;
    if (!(lo >= 0)) {
      relaxed_ = true; // y is unconstrained where x < 0 (an interpreter error)
      ylo = -kInf;
      yhi = kInf;
      ++numRelaxed_;
    }
  } else {
    EnclosedFn f = EnclosedFn(fn);
    relaxed_ = true;
    ++numRelaxed_;
    ++numPiecewise_;
    std::tie(ylo, yhi) = fnImage(f, lo, hi);
    for (const LinearBound& b : enclose(f, lo, hi, pieces_)) {
      z3::expr line = realNumeral(b.v);
      if (b.chord) {
        z3::expr slope =
            ((realNumeral(b.v2) - realNumeral(b.v)) / (realNumeral(b.t2) - realNumeral(b.t)))
                .simplify();
        line = line + slope * (x - realNumeral(b.t));
      } else if (b.slope != 0) {
        line = line + realNumeral(b.slope) * (x - realNumeral(b.t));
      }
      z3::expr bound = b.upper ? y <= line : y >= line;
      z3::expr guard = ctx_.bool_val(true);
      if (std::isfinite(b.from)) guard = guard && x >= realNumeral(b.from);
      if (std::isfinite(b.to)) guard = guard && x <= realNumeral(b.to);
      if (f == EnclosedFn::Log) guard = guard && x > 0;
      define(z3::implies(guard, bound).simplify());
    }
  }
  // Monotonicity (and so functionality) against the earlier occurrences of the same function.
  auto& occ = occurrences_[size_t(fn)];
  constexpr size_t kMaxPairs = 40;
  for (size_t i = 0; i < occ.size() && i < kMaxPairs; ++i) {
    z3::expr dom = ctx_.bool_val(true);
    if (fn == int(EnclosedFn::Log)) dom = x > 0 && occ[i].x > 0;
    if (fn == 4) dom = x >= 0 && occ[i].x >= 0;
    define(z3::implies(dom && x <= occ[i].x, y <= occ[i].y));
    define(z3::implies(dom && occ[i].x <= x, occ[i].y <= y));
  }
  encCache_[key] = occ.size();
  occ.push_back({x, y, ylo, yhi});
  SymValue v;
  v.e.push_back(y);
  v.lo.push_back(ylo);
  v.hi.push_back(yhi);
  return v;
}

SymValue IrEncoder::freshVar(const std::string& name, const ir::Type& t, double lo, double hi) {
  SymValue v;
  size_t n = t.numScalars();
  ir::Type st = t.scalarType();
  for (size_t i = 0; i < n; ++i) {
    std::string nm = n == 1 ? name : name + "[" + std::to_string(i) + "]";
    z3::expr x = ctx_.constant(nm.c_str(), sortOf(ctx_, st));
    double l = -kInf, h = kInf;
    if (st.scalar != ir::ScalarKind::Bool) {
      if (std::isfinite(lo)) {
        assumptions_.push_back(st.scalar == ir::ScalarKind::Real
                                   ? x >= realNumeral(lo)
                                   : x >= ctx_.int_val(int64_t(std::ceil(lo))));
        l = lo;
      }
      if (std::isfinite(hi)) {
        assumptions_.push_back(st.scalar == ir::ScalarKind::Real
                                   ? x <= realNumeral(hi)
                                   : x <= ctx_.int_val(int64_t(std::floor(hi))));
        h = hi;
      }
    } else {
      l = 0;
      h = 1;
    }
    v.e.push_back(x);
    v.lo.push_back(l);
    v.hi.push_back(h);
  }
  return v;
}

namespace {
SymValue zeroOf(z3::context& c, const ir::Type& t) {
  SymValue v;
  size_t n = t.numScalars();
  for (size_t i = 0; i < n; ++i) {
    switch (t.scalar) {
    case ir::ScalarKind::Bool:
      v.e.push_back(c.bool_val(false));
      break;
    case ir::ScalarKind::Real:
      v.e.push_back(c.real_val(0));
      break;
    default:
      v.e.push_back(c.int_val(0));
      break;
    }
    v.lo.push_back(0);
    v.hi.push_back(0);
  }
  return v;
}
} // namespace

/// The statement visitor: executes a body symbolically in a frame.
class StmtExec : public ir::StmtVisitor<Status> {
public:
  StmtExec(IrEncoder& enc, IrEncoder::Frame& fr) : enc_(enc), fr_(fr), c_(enc.ctx_) {}

  Status block(const ir::Block& b) {
    for (ir::Stmt s : b)
      if (Status st = visit(s); !st) return st;
    return Status::ok();
  }

protected:
  Expected<SymValue> ev(ir::Expr e) { return enc_.encodeIn(e, fr_); }
  void rebind(const ir::Var* v, SymValue val) {
    fr_.vars[v] = std::move(val);
    fr_.memo.clear();
    fr_.calls.clear();
  }
  Status located(const ir::StmtNode& s, const Error& e) {
    return Error(e.loc.file.empty() ? s.loc() : e.loc, e.message);
  }

  Status visitLet(const ir::LetStmt& s) override {
    auto v = ev(s.value);
    if (!v) return located(s, v.error());
    if (fr_.vars.count(s.var))
      rebind(s.var, std::move(*v));
    else
      fr_.vars[s.var] = std::move(*v);
    return Status::ok();
  }
  Status visitAssign(const ir::AssignStmt& s) override {
    auto v = ev(s.value);
    if (!v) return located(s, v.error());
    rebind(s.var, std::move(*v));
    return Status::ok();
  }
  Status visitSample(const ir::SampleStmt& s) override {
    std::vector<SymValue> ps;
    for (ir::Expr p : s.params) {
      auto v = ev(p);
      if (!v) return located(s, v.error());
      ps.push_back(std::move(*v));
    }
    std::string addr = fr_.prefix + s.name;
    for (ir::Expr i : s.indices) {
      auto v = ev(i);
      if (!v) return located(s, v.error());
      auto k = constInt(v->e[0]);
      if (!k)
        return Error(s.loc(), "the address of random choice '" + s.name + "' is not constant");
      addr += "[" + symbolic::formatNumber(double(*k)) + "]";
    }
    SymChoice ch{addr, s.dist, {}, false, {}, c_.bool_val(true), c_.bool_val(true)};
    ch.constParams = true;
    for (size_t i = 0; i < ps.size(); ++i)
      for (size_t j = 0; j < ps[i].e.size(); ++j) {
        ch.params.push_back(ps[i].e[j]);
        z3::expr sp = ps[i].e[j].simplify();
        if (sp.is_numeral())
          ch.constValues.push_back(std::strtod(sp.get_decimal_string(30).c_str(), nullptr));
        else
          ch.constParams = false;
        // The decimal value is used only for CDFs; an exact rational of it is not needed there.
        if (sp.is_numeral() && sp.is_int()) ch.constValues.back() = double(sp.as_int64());
      }
    const DistSignature& sig = signature(s.dist);
    ir::Type t = s.var->type();
    z3::expr x = c_.constant(("choice!" + addr).c_str(), sortOf(c_, t));
    z3::expr cond = c_.bool_val(true);
    double lo = -kInf, hi = kInf;
    if (sig.result == DistResultType::Bool) {
      lo = 0;
      hi = 1;
    } else {
      // Support bounds from the kind's trait (symbolic/dist_traits.h): a bound that is a
      // parameter (kLowerParam / kUpperParam: Uniform's and DiscreteUniform's lo and hi,
      // Binomial's n, the flat priors' bounds; an improper prior still has a support, which is
      // all `always` and asserts need, P and E refusing it) is that parameter's expression; a
      // real-array parameter (Categorical's probs) bounds the support by its length; the other
      // bounds are support()'s, the same for any valid parameters.
      const std::pair<int, int> bp = symbolic::dispatch(s.dist, [](auto d) {
        return std::pair<int, int>(decltype(d)::kLowerParam, decltype(d)::kUpperParam);
      });
      size_t nflat = 0;
      for (const auto& q : ps)
        nflat += q.e.size();
      std::vector<double> dummy(nflat, 1.0);
      const symbolic::Support sup = symbolic::support(s.dist, dummy);
      auto numeral = [&](double v) {
        return t.is(ir::ScalarKind::Real) ? enc_.realNumeral(v) : c_.int_val(int64_t(v));
      };
      std::optional<z3::expr> lc, hc;
      if (bp.first >= 0) {
        lc = x >= ps[size_t(bp.first)].e[0];
        lo = ps[size_t(bp.first)].lo[0];
      } else if (std::isfinite(sup.lo)) {
        lc = x >= numeral(sup.lo);
        lo = sup.lo;
      }
      if (bp.second >= 0) {
        hc = x <= ps[size_t(bp.second)].e[0];
        hi = ps[size_t(bp.second)].hi[0];
      } else if (std::isfinite(sup.hi)) {
        hc = x <= numeral(sup.hi);
        hi = sup.hi;
      }
      const bool fromParams =
          bp.first >= 0 || bp.second >= 0 || sig.paramTypes[0] == DistParamType::RealArray;
      if (fromParams && lc && hc) {
        cond = *lc && *hc;
      } else if (fromParams && (lc || hc)) {
        cond = lc ? *lc : *hc;
      } else {
        if (lc) cond = cond && *lc;
        if (hc) cond = cond && *hc;
      }
    }
    ch.var = x;
    ch.supportCond = cond;
    enc_.assumptions_.push_back(cond);
    enc_.choices_.push_back(ch);
    rebind(s.var, scalar(x, lo, hi));
    return Status::ok();
  }
  // Weights do not restrict the support (asserts and `always` are about every trace of positive
  // prior density); the probability checker reads Function::hasWeight() instead.
  Status visitObserve(const ir::ObserveStmt&) override { return Status::ok(); }
  Status visitCondition(const ir::ConditionStmt&) override { return Status::ok(); }
  Status visitFactor(const ir::FactorStmt&) override { return Status::ok(); }
  Status visitAssert(const ir::AssertStmt& s) override {
    auto v = ev(s.cond);
    if (!v) return located(s, v.error());
    enc_.asserts_.push_back({s.loc(), s.message, fr_.path, v->e[0], fr_.depth});
    return Status::ok();
  }
  Status visitIf(const ir::IfStmt& s) override {
    auto c = ev(s.cond);
    if (!c) return located(s, c.error());
    if (auto k = constInt(c->e[0])) return block(*k ? s.thenBody : s.elseBody);
    z3::expr cond = c->e[0], path = fr_.path;
    auto before = fr_.vars;
    fr_.memo.clear();
    fr_.calls.clear();
    fr_.path = path && cond;
    if (Status st = block(s.thenBody); !st) return st;
    auto thenVars = std::move(fr_.vars);
    fr_.vars = before;
    fr_.memo.clear();
    fr_.calls.clear();
    fr_.path = path && !cond;
    if (Status st = block(s.elseBody); !st) return st;
    fr_.path = path;
    for (auto& [var, tv] : thenVars) {
      auto it = fr_.vars.find(var);
      if (it == fr_.vars.end()) continue; // bound only in one branch: a branch-local
      SymValue& ev = it->second;
      for (size_t i = 0; i < ev.e.size(); ++i) {
        if (z3::eq(ev.e[i], tv.e[i])) continue;
        ev.e[i] = z3::ite(cond, tv.e[i], ev.e[i]);
        ev.lo[i] = std::min(ev.lo[i], tv.lo[i]);
        ev.hi[i] = std::max(ev.hi[i], tv.hi[i]);
      }
    }
    fr_.memo.clear();
    fr_.calls.clear();
    return Status::ok();
  }
  Status visitFor(const ir::ForStmt& s) override {
    if (s.hi - s.lo > 100000)
      return Error(s.loc(), "loop of " + std::to_string(s.hi - s.lo) +
                                " iterations is too long to unroll for the verifier");
    for (int64_t i = s.lo; i < s.hi; ++i) {
      rebind(s.index, scalar(c_.int_val(i), double(i), double(i)));
      if (Status st = block(s.body); !st) return st;
    }
    return Status::ok();
  }
  Status visitCall(const ir::CallStmt& s) override {
    std::vector<SymValue> args;
    for (ir::Expr a : s.args) {
      auto v = ev(a);
      if (!v) return located(s, v.error());
      args.push_back(std::move(*v));
    }
    std::string site = fr_.prefix + s.site;
    for (ir::Expr i : s.siteIndices) {
      auto v = ev(i);
      if (!v) return located(s, v.error());
      auto k = constInt(v->e[0]);
      if (!k) return Error(s.loc(), "the call site address of '" + s.site + "' is not constant");
      site += "[" + symbolic::formatNumber(double(*k)) + "]";
    }
    auto outs = enc_.callIn(*s.callee, std::move(args), fr_, site + "/");
    if (!outs) return located(s, outs.error());
    for (size_t k = 0; k < s.results.size(); ++k)
      if (s.results[k]) rebind(s.results[k], (*outs)[k]);
    return Status::ok();
  }

private:
  IrEncoder& enc_;
  IrEncoder::Frame& fr_;
  z3::context& c_;
};

Expected<std::vector<SymValue>> IrEncoder::callIn(const ir::Function& f, std::vector<SymValue> args,
                                                  Frame& caller, const std::string& prefix) {
  if (f.kind() == ir::FunctionKind::External)
    return Error("network '" + f.name() + "' is declared but not loaded (file " + f.externalFile() +
                 ")");
  if (caller.depth > 64) return Error("calls nested too deeply for the verifier");
  Frame fr(ctx_);
  fr.path = caller.path;
  fr.prefix = prefix;
  fr.depth = caller.depth + 1;
  if (f.kind() == ir::FunctionKind::Network) fr.chain = chainOf(f);
  bool assumeRanges = true;
  if (rangeHook_)
    for (const ir::Param& p : f.inputs())
      if (p.range) {
        assumeRanges = rangeHook_(RangedCall{&f, &args, caller.path, caller.depth});
        break;
      }
  for (size_t i = 0; i < f.inputs().size(); ++i) {
    const ir::Param& p = f.inputs()[i];
    SymValue& a = args[i];
    if (p.range && assumeRanges) {
      // The callee's declared input range is an assumption on its arguments (on this path).
      bool isReal = p.var->type().scalar == ir::ScalarKind::Real;
      for (size_t j = 0; j < a.e.size(); ++j) {
        z3::expr lo =
            isReal ? realNumeral(p.range->first) : ctx_.int_val(int64_t(std::ceil(p.range->first)));
        z3::expr hi = isReal ? realNumeral(p.range->second)
                             : ctx_.int_val(int64_t(std::floor(p.range->second)));
        assumptions_.push_back(z3::implies(fr.path, a.e[j] >= lo && a.e[j] <= hi));
        a.lo[j] = std::max(a.lo[j], p.range->first);
        a.hi[j] = std::min(a.hi[j], p.range->second);
      }
    }
    fr.vars[p.var] = std::move(a);
  }
  for (const ir::Var* v : f.vars())
    if (v->role() == ir::VarRole::Output || v->role() == ir::VarRole::Local)
      if (!fr.vars.count(v)) fr.vars[v] = zeroOf(ctx_, v->type());
  StmtExec ex(*this, fr);
  if (Status st = ex.block(f.body()); !st) return st.error();
  std::vector<SymValue> outs;
  for (const ir::Var* o : f.outputs())
    outs.push_back(fr.vars.at(o));
  return outs;
}

Expected<SymExecution> IrEncoder::execute(const ir::Function& f, std::vector<SymValue> inputs,
                                          const std::string& prefix, const ir::Block* body) {
  if (f.kind() == ir::FunctionKind::External)
    return Error(f.loc(), "network '" + f.name() + "' is declared but not loaded");
  Frame fr(ctx_);
  fr.prefix = prefix;
  fr.depth = 0;
  if (f.kind() == ir::FunctionKind::Network) fr.chain = chainOf(f);
  for (size_t i = 0; i < f.inputs().size(); ++i)
    fr.vars[f.inputs()[i].var] = inputs[i];
  for (const ir::Var* v : f.vars())
    if (v->role() == ir::VarRole::Output || v->role() == ir::VarRole::Local)
      if (!fr.vars.count(v)) fr.vars[v] = zeroOf(ctx_, v->type());
  StmtExec ex(*this, fr);
  if (Status st = ex.block(body ? *body : f.body()); !st) return st.error();
  SymExecution r;
  for (const ir::Var* o : f.outputs())
    r.outputs.push_back(fr.vars.at(o));
  r.vars = std::move(fr.vars);
  return r;
}

} // namespace chassis::verifier
