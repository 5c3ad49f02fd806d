// Compiling a piecewise-linear module into an exact ReLU network: see compile_module.h for the
// semantics. Two phases: a symbolic execution of the module over affine combinations of units
// (inputs and hash-consed ReLU neurons, each with interval bounds over the input box), then the
// layout of the unit DAG into affine/ReLU layers with carries, and the ground-truth mask.
#include "neural/compile_module.h"

#include "neural/circuit.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <unordered_map>

namespace chassis::neural {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kMaxIntSteps = 4096; // int / and %: at most this many integer steps
constexpr int kMaxUnits = 200000;  // a compiled network larger than this is refused
constexpr int kMaxCallDepth = 64;

/// An affine combination c + sum w_u * unit_u (terms sorted by unit, no zero weights), with an
/// optional known range [klo, khi] that a constructor proved (e.g. a step is in [0, 1]).
struct Lin {
  double c = 0;
  std::vector<std::pair<int, double>> t;
  double klo = -kInf, khi = kInf;

  bool isConst() const { return t.empty(); }
  bool sameAs(const Lin& o) const { return c == o.c && t == o.t; }
};

Lin constant(double c) {
  Lin l;
  l.c = c;
  l.klo = l.khi = c;
  return l;
}

/// a * x + b * y.
Lin combine(const Lin& x, double a, const Lin& y, double b) {
  Lin r;
  r.c = a * x.c + b * y.c;
  size_t i = 0, j = 0;
  auto push = [&](int u, double w) {
    if (w != 0) r.t.emplace_back(u, w);
  };
  while (i < x.t.size() || j < y.t.size()) {
    if (j == y.t.size() || (i < x.t.size() && x.t[i].first < y.t[j].first)) {
      push(x.t[i].first, a * x.t[i].second);
      ++i;
    } else if (i == x.t.size() || y.t[j].first < x.t[i].first) {
      push(y.t[j].first, b * y.t[j].second);
      ++j;
    } else {
      push(x.t[i].first, a * x.t[i].second + b * y.t[j].second);
      ++i;
      ++j;
    }
  }
  // The known ranges combine by interval arithmetic (when both are known).
  auto ends = [](const Lin& l, double w) {
    const double p = w * l.klo, q = w * l.khi;
    return std::pair{w == 0 ? 0.0 : std::min(p, q), w == 0 ? 0.0 : std::max(p, q)};
  };
  const auto [xl, xh] = ends(x, a);
  const auto [yl, yh] = ends(y, b);
  if (std::isfinite(xl + xh + yl + yh)) {
    r.klo = xl + yl;
    r.khi = xh + yh;
  }
  if (r.t.empty()) r.klo = r.khi = r.c;
  return r;
}
Lin add(const Lin& x, const Lin& y) {
  return combine(x, 1, y, 1);
}
Lin sub(const Lin& x, const Lin& y) {
  return combine(x, 1, y, -1);
}
Lin scale(const Lin& x, double a) {
  return combine(x, a, Lin{}, 0);
}
Lin plus(const Lin& x, double c) {
  return combine(x, 1, constant(c), 1);
}
Lin withRange(Lin x, double lo, double hi) {
  x.klo = std::max(x.klo, lo);
  x.khi = std::min(x.khi, hi);
  return x;
}

struct Unit {
  Lin pre;               // ReLU units: the pre-activation
  double lo = 0, hi = 0; // bounds of the unit's value over the input box
  int depth = 0;         // 0 for an input column
  int inputCol = -1;     // >= 0 for an input column
  std::string label;
};

/// A value: its scalars (bool 0/1, int, real; an enum as its one-hot vector; arrays row-major
/// with each element's scalars in turn), or for a call the tuple of its outputs.
struct Val {
  std::vector<Lin> s;
  std::vector<Val> tuple;
  bool sameAs(const Val& o) const {
    if (s.size() != o.s.size() || tuple.size() != o.tuple.size()) return false;
    for (size_t i = 0; i < s.size(); ++i)
      if (!s[i].sameAs(o.s[i])) return false;
    for (size_t i = 0; i < tuple.size(); ++i)
      if (!tuple[i].sameAs(o.tuple[i])) return false;
    return true;
  }
};

/// Thrown inside the compiler, turned into an Error by compileModule.
struct CompileFailure {
  Error error;
};

std::string fmt(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(int64_t(v));
  return ir::formatReal(v);
}

class Compiler {
public:
  Compiler(const ir::Program& p, const CompileOptions& o) : ctx_(p.ctx()), opt_(o) {}

  std::vector<Unit> units;
  /// The comparisons compiled with the margin, by their (rise, cap) units (-1: not a unit); one
  /// counts when a unit of it is laid out in the network.
  std::set<std::pair<int, int>> comparisons;

  /// The unit `l` is, or -1.
  static int unitOf(const Lin& l) {
    return l.c == 0 && l.t.size() == 1 && l.t[0].second == 1 ? l.t[0].first : -1;
  }

  int inputUnit(double lo, double hi, int col, std::string name) {
    Unit u;
    u.lo = lo;
    u.hi = hi;
    u.inputCol = col;
    u.label = std::move(name);
    units.push_back(std::move(u));
    return int(units.size()) - 1;
  }

  static Lin unitLin(int u) {
    Lin l;
    l.t.emplace_back(u, 1.0);
    return l;
  }

  /// Width in scalars of one element of scalar type `t` (K for an enum, else 1).
  int width(const ir::Type& t) const {
    return t.scalar == ir::ScalarKind::Enum ? int(ctx_.enums()[size_t(t.enumId)].constants.size())
                                            : 1;
  }
  int totalWidth(const ir::Type& t) const { return int(t.numScalars()) * width(t); }

  Val zeroVal(const ir::Type& t) const {
    Val v;
    const int w = width(t);
    for (size_t i = 0; i < t.numScalars(); ++i)
      for (int k = 0; k < w; ++k)
        v.s.push_back(constant(t.scalar == ir::ScalarKind::Enum && k == 0 ? 1.0 : 0.0));
    return v;
  }

  std::pair<double, double> bounds(const Lin& l) const {
    double lo = l.c, hi = l.c;
    for (auto [u, w] : l.t) {
      const Unit& U = units[size_t(u)];
      if (w > 0) {
        lo += w * U.lo;
        hi += w * U.hi;
      } else {
        lo += w * U.hi;
        hi += w * U.lo;
      }
    }
    return {std::max(lo, l.klo), std::min(hi, l.khi)};
  }

  /// relu(pre): 0 or pre itself when the bounds decide it, else a (hash-consed) unit.
  Lin relu(const Lin& pre, const std::string& label) {
    auto [lo, hi] = bounds(pre);
    if (hi <= 0) return constant(0);
    if (lo >= 0) return pre;
    std::string key;
    auto putD = [&](double d) {
      char b[sizeof(double)];
      std::memcpy(b, &d, sizeof d);
      key.append(b, sizeof b);
    };
    putD(pre.c);
    for (auto [u, w] : pre.t) {
      key.append(reinterpret_cast<const char*>(&u), sizeof u);
      putD(w);
    }
    auto it = reluIds_.find(key);
    if (it != reluIds_.end()) return unitLin(it->second);
    Unit U;
    U.pre = pre;
    U.pre.klo = -kInf;
    U.pre.khi = kInf;
    U.lo = 0;
    U.hi = hi;
    for (auto [u, w] : pre.t)
      U.depth = std::max(U.depth, units[size_t(u)].depth + 1);
    U.label = label;
    if (units.size() >= size_t(kMaxUnits))
      fail("the compiled network would have more than " + std::to_string(kMaxUnits) + " units");
    units.push_back(std::move(U));
    const int id = int(units.size()) - 1;
    reluIds_.emplace(std::move(key), id);
    return unitLin(id);
  }

  [[noreturn]] void fail(const std::string& msg) const {
    throw CompileFailure{Error(loc_, "compile-net: " + msg)};
  }
  [[noreturn]] void notPwl(const std::string& what) const {
    fail(what + " is not piecewise linear");
  }

  // ---- Piecewise-linear building blocks --------------------------------------------------------

  Lin absOf(const Lin& x, const std::string& s) {
    auto [lo, hi] = bounds(x);
    if (lo >= 0) return x;
    if (hi <= 0) return scale(x, -1);
    return add(relu(x, "relu(" + s + ")"), relu(scale(x, -1), "relu(-(" + s + "))"));
  }
  Lin minOf(const Lin& a, const Lin& b, const std::string& sa, const std::string& sb) {
    return sub(a, relu(sub(a, b), "min: relu(" + sa + " - " + sb + ")"));
  }
  Lin maxOf(const Lin& a, const Lin& b, const std::string& sa, const std::string& sb) {
    return add(b, relu(sub(a, b), "max: relu(" + sa + " - " + sb + ")"));
  }

  /// [a <= b] (strict: [a < b]) with t = b - a; exact at integers when `integral`.
  Lin compareLe(const Lin& a, const Lin& b, bool strict, bool integral, const std::string& s) {
    Lin t = sub(b, a);
    if (integral && strict) t = plus(t, -1), strict = false; // a < b  <=>  a <= b - 1
    const double m = integral ? 1.0 : opt_.margin;
    auto [lo, hi] = bounds(t);
    if (!strict) {
      if (lo >= 0) return constant(1);
      if (hi <= -m) return constant(0);
    } else {
      if (lo >= m) return constant(1);
      if (hi <= 0) return constant(0);
    }
    const Lin ts = scale(t, 1.0 / m);
    const std::string tag = "step(" + s + ")";
    Lin up = strict ? ts : plus(ts, 1.0);
    const Lin rise = relu(up, tag + " rise"), cap = relu(plus(up, -1.0), tag + " cap");
    if (!integral) comparisons.insert({unitOf(rise), unitOf(cap)});
    return withRange(sub(rise, cap), 0, 1);
  }

  Lin andOf(const Lin& a, const Lin& b, const std::string& s) {
    if (a.isConst()) return a.c >= 0.5 ? b : constant(0);
    if (b.isConst()) return b.c >= 0.5 ? a : constant(0);
    return withRange(relu(plus(add(a, b), -1), "and(" + s + ")"), 0, 1);
  }
  Lin orOf(const Lin& a, const Lin& b, const std::string& s) {
    if (a.isConst()) return a.c >= 0.5 ? constant(1) : b;
    if (b.isConst()) return b.c >= 0.5 ? constant(1) : a;
    Lin r = sub(constant(1), relu(sub(constant(1), add(a, b)), "or(" + s + ")"));
    return withRange(r, 0, 1);
  }
  Lin notOf(const Lin& a) {
    auto [lo, hi] = bounds(a);
    return withRange(sub(constant(1), a), 1 - hi, 1 - lo);
  }

  /// c ? x : y for c in {0, 1}: y + c d with d = x - y, c d = L c + relu(d - L + (U - L)(c - 1)).
  Lin mux(const Lin& c, const Lin& x, const Lin& y, const std::string& s) {
    if (x.sameAs(y)) return x;
    if (c.isConst()) return c.c >= 0.5 ? x : y;
    const Lin d = sub(x, y);
    if (d.isConst()) return add(y, scale(c, d.c));
    // Widened a little so that float64 rounding in the bounds cannot make them cut into d's
    // range (relu(d - U) must be 0 in the reals, not 1e-16).
    auto [L, U] = bounds(d);
    L -= 1e-9 * (1 + std::fabs(L));
    U += 1e-9 * (1 + std::fabs(U));
    Lin pre = add(sub(d, constant(L)), scale(plus(c, -1), U - L));
    Lin cd = add(scale(c, L), relu(pre, "select(" + s + ")"));
    // Where the module is exact c is 0 or 1, so the result is x or y.
    auto [xl, xh] = bounds(x);
    auto [yl, yh] = bounds(y);
    return withRange(add(y, cd), std::min(xl, yl), std::max(xh, yh));
  }

  /// [x >= a] for an integral x: relu(x - a + 1) - relu(x - a), exact at integers.
  Lin intAtLeast(const Lin& x, double a, const std::string& s) {
    auto [lo, hi] = bounds(x);
    if (lo >= a) return constant(1);
    if (hi <= a - 1) return constant(0);
    const Lin t = plus(x, -a);
    const std::string tag = "[" + s + " >= " + fmt(a) + "]";
    return withRange(sub(relu(plus(t, 1), tag + " rise"), relu(t, tag + " cap")), 0, 1);
  }

  /// trunc(x / k) for an integral x and a constant integer k != 0.
  Lin intDiv(const Lin& x, int64_t k, const std::string& s) {
    const double ak = std::fabs(double(k));
    auto [lo, hi] = bounds(x);
    if (!std::isfinite(lo) || !std::isfinite(hi)) fail("int division of an unbounded value");
    const double posSteps = hi > 0 ? std::floor(hi / ak) : 0;
    const double negSteps = lo < 0 ? std::floor(-lo / ak) : 0;
    if (posSteps + negSteps > kMaxIntSteps)
      fail("int division by " + std::to_string(k) + " of a value in [" + fmt(lo) + ", " + fmt(hi) +
           "] needs more than " + std::to_string(kMaxIntSteps) + " steps");
    Lin q = constant(0);
    for (int j = 1; j <= int(posSteps); ++j)
      q = add(q, intAtLeast(x, j * ak, s));
    for (int j = 1; j <= int(negSteps); ++j) // [x <= -j k] = [-x >= j k]
      q = sub(q, intAtLeast(scale(x, -1), j * ak, "-(" + s + ")"));
    return k < 0 ? scale(q, -1) : q;
  }

  // ---- Expressions -----------------------------------------------------------------------------

  struct Frame {
    std::vector<Val> slots;
    std::unordered_map<ir::Expr, Val> memo; // valid within one statement
  };

  std::string str(ir::Expr e) const { return ir::str(e, ctx_); }

  const Lin& scalar(const Val& v) const {
    if (v.s.size() != 1)
      fail("internal: a scalar value with " + std::to_string(v.s.size()) + " parts");
    return v.s[0];
  }
  static Val one(Lin l) {
    Val v;
    v.s.push_back(std::move(l));
    return v;
  }
  bool allConst(const Val& v) const {
    return std::all_of(v.s.begin(), v.s.end(), [](const Lin& l) { return l.isConst(); });
  }

  Val eval(ir::Expr e, Frame& f) {
    auto it = f.memo.find(e);
    if (it != f.memo.end()) return it->second;
    Val v = evalNode(e, f);
    f.memo.emplace(e, v);
    return v;
  }

  Val evalNode(ir::Expr e, Frame& f) {
    switch (e->kind()) {
    case ir::ExprKind::Const: {
      const auto* c = e->as<ir::Const>();
      if (e->type().is(ir::ScalarKind::Enum)) {
        Val v;
        const int K = width(e->type());
        for (int k = 0; k < K; ++k)
          v.s.push_back(constant(k == c->intValue() ? 1.0 : 0.0));
        return v;
      }
      return one(constant(c->asDouble()));
    }
    case ir::ExprKind::Var: {
      const auto* v = e->as<ir::Var>();
      if (v->slot() < 0 || size_t(v->slot()) >= f.slots.size())
        fail("internal: variable '" + v->name() + "' outside its frame");
      return f.slots[size_t(v->slot())];
    }
    case ir::ExprKind::Unary:
      return evalUnary(*e->as<ir::Unary>(), f);
    case ir::ExprKind::Binary:
      return evalBinary(*e->as<ir::Binary>(), f);
    case ir::ExprKind::Select: {
      const auto* s = e->as<ir::Select>();
      const Lin c = scalar(eval(s->cond(), f));
      if (c.isConst()) return eval(c.c >= 0.5 ? s->ifTrue() : s->ifFalse(), f);
      return muxVal(c, eval(s->ifTrue(), f), eval(s->ifFalse(), f), str(s->cond()));
    }
    case ir::ExprKind::ArrayLit: {
      Val v;
      for (ir::Expr x : e->as<ir::ArrayLit>()->elements()) {
        Val xv = eval(x, f);
        v.s.insert(v.s.end(), xv.s.begin(), xv.s.end());
      }
      return v;
    }
    case ir::ExprKind::Index: {
      // a[k] at a constant k; at an int variable i, a[0] then a[k] selected by [i == k] in turn.
      const auto* ix = e->as<ir::Index>();
      Val a = eval(ix->array(), f);
      const size_t stride = size_t(totalWidth(ix->array()->type().element()));
      auto element = [&](size_t k) {
        Val v;
        v.s.assign(a.s.begin() + long(k * stride), a.s.begin() + long((k + 1) * stride));
        return v;
      };
      const std::vector<std::pair<size_t, Lin>> sel =
          indexSelectors(ix->index(), ix->array()->type().length(), f);
      if (sel.size() == 1 && sel[0].second.isConst()) return element(sel[0].first);
      Val v = element(sel[0].first);
      for (size_t q = 1; q < sel.size(); ++q)
        v = muxVal(sel[q].second, element(sel[q].first), v,
                   str(ix->index()) + " == " + std::to_string(sel[q].first));
      return v;
    }
    case ir::ExprKind::Update: {
      // At an int variable i, every element k that i can reach becomes [i == k] ? v : a[k].
      const auto* up = e->as<ir::Update>();
      Val a = eval(up->array(), f);
      const size_t stride = size_t(totalWidth(up->array()->type().element()));
      const Val x = eval(up->value(), f);
      for (const auto& [k, is] : indexSelectors(up->index(), up->array()->type().length(), f))
        for (size_t q = 0; q < stride; ++q) {
          Lin& slot = a.s[k * stride + q];
          slot = mux(is, x.s[q], slot, str(up->index()) + " == " + std::to_string(k));
        }
      return a;
    }
    case ir::ExprKind::Call: {
      const auto* c = e->as<ir::Call>();
      std::vector<Val> args;
      for (ir::Expr a : c->args())
        args.push_back(eval(a, f));
      Val v;
      v.tuple = inlineCall(c->callee(), std::move(args));
      return v;
    }
    case ir::ExprKind::CallResult: {
      const auto* r = e->as<ir::CallResult>();
      Val t = eval(r->operand(0), f);
      if (size_t(r->index()) >= t.tuple.size()) fail("internal: call result out of range");
      return t.tuple[size_t(r->index())];
    }
    case ir::ExprKind::Affine: {
      const auto* a = e->as<ir::Affine>();
      const ir::DenseLayer& L = a->layer();
      Val x = eval(a->input(), f);
      if (int(x.s.size()) != L.cols) fail("internal: affine layer input size");
      Val y;
      for (int r = 0; r < L.rows; ++r) {
        Lin acc = constant(L.b(r));
        for (int cI = 0; cI < L.cols; ++cI)
          if (L.w(r, cI) != 0) acc = combine(acc, 1, x.s[size_t(cI)], L.w(r, cI));
        y.s.push_back(std::move(acc));
      }
      return y;
    }
    case ir::ExprKind::VecRelu: {
      Val x = eval(e->as<ir::VecRelu>()->input(), f);
      for (size_t i = 0; i < x.s.size(); ++i)
        x.s[i] = relu(x.s[i], "network relu " + std::to_string(i));
      return x;
    }
    }
    fail("internal: unknown expression kind");
  }

  /// The positions k in [0, n) the int index `i` can take, each with its selector [i == k]
  /// (exact at integers); one constant selector when `i` is a constant.
  std::vector<std::pair<size_t, Lin>> indexSelectors(ir::Expr i, int n, Frame& f) {
    const Val iv = eval(i, f);
    const Lin& l = scalar(iv);
    if (l.isConst()) {
      if (l.c < 0 || l.c >= n)
        fail("index " + fmt(l.c) + " is outside [0, " + std::to_string(n) + ")");
      return {{size_t(l.c), constant(1)}};
    }
    auto [lo, hi] = bounds(l);
    const int first = std::max(0, int(std::ceil(lo))), last = std::min(n - 1, int(std::floor(hi)));
    if (first > last)
      fail("index '" + str(i) + "' in [" + fmt(lo) + ", " + fmt(hi) + "] is outside [0, " +
           std::to_string(n) + ")");
    std::vector<std::pair<size_t, Lin>> out;
    const std::string s = str(i);
    for (int k = first; k <= last; ++k)
      out.emplace_back(size_t(k),
                       withRange(sub(intAtLeast(l, k, s), intAtLeast(l, k + 1, s)), 0, 1));
    return out;
  }

  Val muxVal(const Lin& c, const Val& x, const Val& y, const std::string& s) {
    if (x.s.size() != y.s.size() || x.tuple.size() != y.tuple.size())
      fail("internal: select of values of different shapes");
    Val r;
    for (size_t i = 0; i < x.s.size(); ++i)
      r.s.push_back(mux(c, x.s[i], y.s[i], s));
    for (size_t i = 0; i < x.tuple.size(); ++i)
      r.tuple.push_back(muxVal(c, x.tuple[i], y.tuple[i], s));
    return r;
  }

  Val evalUnary(const ir::Unary& u, Frame& f) {
    Val a = eval(u.arg(), f);
    const std::string s = str(u.arg());
    switch (u.op()) {
    case ir::UnOp::Neg:
      for (Lin& l : a.s)
        l = scale(l, -1);
      return a;
    case ir::UnOp::Not:
      return one(notOf(scalar(a)));
    case ir::UnOp::ToReal:
      return a;
    case ir::UnOp::Abs:
      for (Lin& l : a.s)
        l = absOf(l, s);
      return a;
    case ir::UnOp::Relu:
      for (Lin& l : a.s)
        l = relu(l, "relu(" + s + ")");
      return a;
    case ir::UnOp::Sum: {
      Lin acc = constant(0);
      for (const Lin& l : a.s)
        acc = add(acc, l);
      return one(acc);
    }
    case ir::UnOp::Exp:
    case ir::UnOp::Log:
    case ir::UnOp::Sqrt:
    case ir::UnOp::Sigmoid:
    case ir::UnOp::Tanh:
    case ir::UnOp::Argmax:
      notPwl(std::string(ir::spelling(u.op())) + "(" + s + ")");
    }
    fail("internal: unknown unary operator");
  }

  Val elementwise(const Val& a, const Val& b, double sa, double sb) {
    if (a.s.size() != b.s.size()) fail("internal: operands of different sizes");
    Val r;
    for (size_t i = 0; i < a.s.size(); ++i)
      r.s.push_back(combine(a.s[i], sa, b.s[i], sb));
    return r;
  }

  Val evalBinary(const ir::Binary& b, Frame& f) {
    const ir::BinOp op = b.op();
    const std::string sl = str(b.lhs()), sr = str(b.rhs());
    const std::string s = sl + " " + std::string(ir::spelling(op)) + " " + sr;
    // Short-circuit operators first: a constant left side decides without the right side.
    if (op == ir::BinOp::And || op == ir::BinOp::Or || op == ir::BinOp::Implies) {
      Lin l = scalar(eval(b.lhs(), f));
      if (op == ir::BinOp::Implies) l = notOf(l);
      if (l.isConst() && (op == ir::BinOp::And ? l.c < 0.5 : l.c >= 0.5))
        return one(constant(op == ir::BinOp::And ? 0 : 1));
      const Lin r = scalar(eval(b.rhs(), f));
      return one(op == ir::BinOp::And ? andOf(l, r, sl + ", " + sr) : orOf(l, r, sl + ", " + sr));
    }
    const Val x = eval(b.lhs(), f), y = eval(b.rhs(), f);
    const ir::Type& lt = b.lhs()->type();
    const bool integral =
        lt.scalar == ir::ScalarKind::Int && b.rhs()->type().scalar == ir::ScalarKind::Int;
    switch (op) {
    case ir::BinOp::Add:
      return elementwise(x, y, 1, 1);
    case ir::BinOp::Sub:
      return elementwise(x, y, 1, -1);
    case ir::BinOp::Mul: {
      if (x.s.size() == 1 && scalar(x).isConst()) {
        Val r = y;
        for (Lin& l : r.s)
          l = scale(l, x.s[0].c);
        return r;
      }
      if (y.s.size() == 1 && scalar(y).isConst()) {
        Val r = x;
        for (Lin& l : r.s)
          l = scale(l, y.s[0].c);
        return r;
      }
      notPwl("'" + s + "' (a product of two variables)");
    }
    case ir::BinOp::Div:
    case ir::BinOp::Mod: {
      if (!allConst(y)) notPwl("'" + s + "' (a division by a variable)");
      const double d = scalar(y).c;
      if (d == 0) fail("'" + s + "' divides by zero");
      if (b.type().scalar == ir::ScalarKind::Real) {
        if (op == ir::BinOp::Mod) notPwl("'" + s + "'");
        return one(scale(scalar(x), 1.0 / d));
      }
      const Lin q = intDiv(scalar(x), int64_t(d), sl);
      if (op == ir::BinOp::Div) return one(q);
      return one(sub(scalar(x), scale(q, d)));
    }
    case ir::BinOp::Min:
    case ir::BinOp::Max: {
      Val r;
      for (size_t i = 0; i < x.s.size(); ++i)
        r.s.push_back(op == ir::BinOp::Min ? minOf(x.s[i], y.s[i], sl, sr)
                                           : maxOf(x.s[i], y.s[i], sl, sr));
      return r;
    }
    case ir::BinOp::Dot: {
      if (!allConst(x) && !allConst(y)) notPwl("'dot(" + sl + ", " + sr + ")' of two variables");
      const Val& k = allConst(x) ? x : y;
      const Val& v = allConst(x) ? y : x;
      Lin acc = constant(0);
      for (size_t i = 0; i < v.s.size(); ++i)
        acc = combine(acc, 1, v.s[i], k.s[i].c);
      return one(acc);
    }
    case ir::BinOp::Le:
      return one(compareLe(scalar(x), scalar(y), false, integral, s));
    case ir::BinOp::Lt:
      return one(compareLe(scalar(x), scalar(y), true, integral, s));
    case ir::BinOp::Ge:
      return one(compareLe(scalar(y), scalar(x), false, integral, s));
    case ir::BinOp::Gt:
      return one(compareLe(scalar(y), scalar(x), true, integral, s));
    case ir::BinOp::Eq:
    case ir::BinOp::Ne: {
      Lin eq;
      if (lt.scalar == ir::ScalarKind::Bool) {
        // a == b = 1 - a - b + 2 (a && b)
        const Lin& a = scalar(x);
        const Lin& c = scalar(y);
        eq = withRange(add(sub(sub(constant(1), a), c), scale(andOf(a, c, sl + ", " + sr), 2)), 0,
                       1);
      } else if (lt.scalar == ir::ScalarKind::Enum) {
        eq = constant(0);
        for (size_t k = 0; k < x.s.size(); ++k)
          eq = add(eq, andOf(x.s[k], y.s[k], sl + ", " + sr + " [" + std::to_string(k) + "]"));
        eq = withRange(eq, 0, 1);
      } else {
        // a == b  is  [a <= b] + [b <= a] - 1
        const Lin le = compareLe(scalar(x), scalar(y), false, integral, sl + " <= " + sr);
        const Lin ge = compareLe(scalar(y), scalar(x), false, integral, sr + " <= " + sl);
        eq = withRange(plus(add(le, ge), -1), 0, 1);
      }
      return one(op == ir::BinOp::Eq ? eq : notOf(eq));
    }
    case ir::BinOp::And:
    case ir::BinOp::Or:
    case ir::BinOp::Implies:
      break; // handled above
    }
    fail("internal: unknown binary operator");
  }

  // ---- Statements and calls --------------------------------------------------------------------

  std::vector<Val> inlineCall(const ir::Function& fn, std::vector<Val> args) {
    if (fn.kind() == ir::FunctionKind::External)
      fail("'" + fn.name() + "' has no body (its file '" + fn.externalFile() + "' is not loaded)");
    if (fn.isRandom() && callDepth_ > 0) // at the top, the random statement itself is reported
      notPwl("a call of the random module '" + fn.name() + "' (sample/observe/condition/factor)");
    if (callDepth_ >= kMaxCallDepth) fail("calls nested deeper than 64");
    if (args.size() != fn.inputs().size())
      fail("internal: call of '" + fn.name() + "' with " + std::to_string(args.size()) +
           " arguments");
    ++callDepth_;
    Frame f;
    f.slots.resize(size_t(fn.numSlots()));
    for (const ir::Var* v : fn.vars())
      f.slots[size_t(v->slot())] = zeroVal(v->type());
    for (size_t i = 0; i < fn.inputs().size(); ++i)
      f.slots[size_t(fn.inputs()[i].var->slot())] = std::move(args[i]);
    const SourceLoc saved = loc_;
    execBlock(fn.body(), f);
    loc_ = saved;
    std::vector<Val> out;
    for (const ir::Var* o : fn.outputs())
      out.push_back(f.slots[size_t(o->slot())]);
    --callDepth_;
    return out;
  }

  void execBlock(const ir::Block& b, Frame& f) {
    for (ir::Stmt s : b)
      exec(s, f);
  }

  void exec(ir::Stmt s, Frame& f) {
    loc_ = s->loc();
    f.memo.clear();
    switch (s->kind()) {
    case ir::StmtKind::Let: {
      const auto* l = s->as<ir::LetStmt>();
      f.slots[size_t(l->var->slot())] = eval(l->value, f);
      return;
    }
    case ir::StmtKind::Assign: {
      const auto* a = s->as<ir::AssignStmt>();
      f.slots[size_t(a->var->slot())] = eval(a->value, f);
      return;
    }
    case ir::StmtKind::Sample:
      notPwl("sampling ('" + s->as<ir::SampleStmt>()->name + " ~ ...', a random choice)");
    case ir::StmtKind::Observe:
      notPwl("observe (a random statement)");
    case ir::StmtKind::Condition:
      notPwl("condition (a random statement)");
    case ir::StmtKind::Factor:
      notPwl("factor (a random statement)");
    case ir::StmtKind::Assert:
      notPwl("assert");
    case ir::StmtKind::If: {
      const auto* i = s->as<ir::IfStmt>();
      const Lin c = scalar(eval(i->cond, f));
      if (c.isConst()) {
        execBlock(c.c >= 0.5 ? i->thenBody : i->elseBody, f);
        return;
      }
      Frame t{f.slots, {}}, e{f.slots, {}};
      execBlock(i->thenBody, t);
      execBlock(i->elseBody, e);
      loc_ = s->loc();
      const std::string cs = str(i->cond);
      for (size_t k = 0; k < f.slots.size(); ++k)
        f.slots[k] =
            t.slots[k].sameAs(e.slots[k]) ? t.slots[k] : muxVal(c, t.slots[k], e.slots[k], cs);
      return;
    }
    case ir::StmtKind::For: {
      const auto* l = s->as<ir::ForStmt>();
      for (int64_t k = l->lo; k < l->hi; ++k) {
        f.slots[size_t(l->index->slot())] = one(constant(double(k)));
        execBlock(l->body, f);
      }
      return;
    }
    case ir::StmtKind::Call: {
      const auto* c = s->as<ir::CallStmt>();
      if (c->callee->isRandom())
        notPwl("the call of the random module '" + c->callee->name() + "'");
      std::vector<Val> args;
      for (ir::Expr a : c->args)
        args.push_back(eval(a, f));
      std::vector<Val> out = inlineCall(*c->callee, std::move(args));
      for (size_t k = 0; k < c->results.size() && k < out.size(); ++k)
        if (c->results[k]) f.slots[size_t(c->results[k]->slot())] = std::move(out[k]);
      return;
    }
    }
  }

  void setLoc(SourceLoc l) { loc_ = std::move(l); }

private:
  const ir::Context& ctx_;
  CompileOptions opt_;
  SourceLoc loc_;
  int callDepth_ = 0;
  std::unordered_map<std::string, int> reluIds_;
};

/// One value's representation in a layer's output vector: sum of coeff * neuron.
using Rep = std::vector<std::pair<int, double>>;

} // namespace

long countCircuitEdges(const CompiledNet& c) {
  long n = 0;
  for (const EdgeMaskB& m : c.groundTruth)
    n += long(m.count());
  return n;
}

namespace {

/// See "Pruning on a finite domain" in compile_module.h.
void pruneOnFiniteDomain(CompiledNet& c, const std::vector<bool>& integral) {
  if (std::find(integral.begin(), integral.end(), false) != integral.end()) return;
  const Eigen::MatrixXd X =
      integerGrid(Eigen::Map<const Eigen::VectorXd>(c.inputLo.data(), long(c.inputLo.size())),
                  Eigen::Map<const Eigen::VectorXd>(c.inputHi.data(), long(c.inputHi.size())),
                  kMaxPruneDomain);
  if (X.rows() == 0) return;
  c.domainPoints = X.rows();
  AffineNet& net = c.net;
  const size_t L = net.layers.size();
  std::vector<Eigen::MatrixXd> acts = layerActivations(net, X);
  const Eigen::MatrixXd reference = acts[L];
  const Eigen::MatrixXd tol = kPruneTolerance * (1.0 + reference.array().abs());
  // The activations acts[l..L] with layer l's W changed (the layers below l are unchanged).
  auto from = [&](size_t l) {
    std::vector<Eigen::MatrixXd> a{acts[l]};
    for (size_t j = l; j < L; ++j) {
      Eigen::MatrixXd z = a.back() * net.layers[j].W.transpose();
      z.rowwise() += net.layers[j].b.transpose();
      a.push_back(net.layers[j].relu ? Eigen::MatrixXd(z.cwiseMax(0.0)) : z);
    }
    return a;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t l = L; l-- > 0;) {
      Eigen::MatrixXd& W = net.layers[l].W;
      for (Eigen::Index r = 0; r < W.rows(); ++r)
        for (Eigen::Index k = 0; k < W.cols(); ++k) {
          const double w = W(r, k);
          if (w == 0) continue;
          W(r, k) = 0;
          std::vector<Eigen::MatrixXd> trial = from(l);
          if (((trial.back() - reference).cwiseAbs().array() <= tol.array()).all()) {
            ++c.prunedEdges;
            changed = true;
            std::move(trial.begin(), trial.end(), acts.begin() + long(l));
          } else {
            W(r, k) = w;
          }
        }
    }
  }
  // Hidden units with no outgoing edge: their incoming edges go too, then the unit.
  for (size_t l = L - 1; l-- > 0;) {
    AffineLayer& A = net.layers[l];
    AffineLayer& Next = net.layers[l + 1];
    std::vector<Eigen::Index> keep;
    for (Eigen::Index u = 0; u < A.W.rows(); ++u) {
      if (Next.W.col(u).cwiseAbs().maxCoeff() > 0) {
        keep.push_back(u);
        continue;
      }
      c.prunedEdges += long((A.W.row(u).array() != 0).count());
      ++c.droppedUnits;
    }
    if (keep.size() == size_t(A.W.rows())) continue;
    const bool none = keep.empty();
    if (none) keep.push_back(0); // a layer keeps one unit, all zero
    Eigen::MatrixXd W(long(keep.size()), A.W.cols()), Wn(Next.W.rows(), long(keep.size()));
    Eigen::VectorXd b(long(keep.size()));
    std::vector<std::string> labels;
    for (size_t i = 0; i < keep.size(); ++i) {
      W.row(long(i)) = A.W.row(keep[i]);
      b[long(i)] = A.b[keep[i]];
      Wn.col(long(i)) = Next.W.col(keep[i]);
      labels.push_back(c.neuronLabels[l][size_t(keep[i])]);
    }
    if (none) {
      W.setZero();
      b.setZero();
      labels[0] = "(unused)";
    }
    A.W = std::move(W);
    A.b = std::move(b);
    Next.W = std::move(Wn);
    c.neuronLabels[l] = std::move(labels);
  }
}

} // namespace

Eigen::MatrixXd integerGrid(const Eigen::VectorXd& lo, const Eigen::VectorXd& hi,
                           long maxPoints) {
  const Eigen::Index n = lo.size();
  long points = 1;
  std::vector<long> count(static_cast<size_t>(n)), first(static_cast<size_t>(n));
  for (Eigen::Index k = 0; k < n; ++k) {
    const double a = std::ceil(lo[k]), b = std::floor(hi[k]);
    if (!std::isfinite(a) || !std::isfinite(b) || !(b >= a) || b - a + 1 > double(maxPoints))
      return {};
    first[size_t(k)] = long(a);
    count[size_t(k)] = long(b - a) + 1;
    if (points > maxPoints / count[size_t(k)]) return {};
    points *= count[size_t(k)];
  }
  Eigen::MatrixXd X(points, n);
  for (long p = 0; p < points; ++p) {
    long rest = p;
    for (Eigen::Index k = 0; k < n; ++k) {
      X(p, k) = double(first[size_t(k)] + rest % count[size_t(k)]);
      rest /= count[size_t(k)];
    }
  }
  return X;
}

Expected<CompiledNet> compileModule(const ir::Program& program, const ir::Function& module,
                                    const CompileOptions& options) {
  if (!(options.margin > 0) || !std::isfinite(options.margin))
    return Error("compile-net: the margin must be a positive number, got " +
                 ir::formatReal(options.margin));
  if (module.kind() != ir::FunctionKind::Module)
    return Error(module.loc(), "compile-net: '" + module.name() + "' is not a module");
  const ir::Context& ctx = program.ctx();
  Compiler C(program, options);
  CompiledNet out;
  std::vector<bool> integralCol; // per input column: int, bool or enum
  std::vector<Lin> outputs;
  try {
    // Inputs: one column each (arrays element by element), bound as units.
    std::vector<Val> args;
    C.setLoc(module.loc());
    integralCol.clear();
    if (module.inputs().empty())
      return Error(module.loc(), "compile-net: module '" + module.name() + "' has no inputs");
    for (const ir::Param& p : module.inputs()) {
      const ir::Type& t = p.var->type();
      const std::string& name = p.var->name();
      double lo = 0, hi = 0;
      switch (t.scalar) {
      case ir::ScalarKind::Bool:
        hi = 1;
        break;
      case ir::ScalarKind::Enum:
        hi = double(ctx.enums()[size_t(t.enumId)].constants.size()) - 1;
        break;
      case ir::ScalarKind::Int:
      case ir::ScalarKind::Real:
        if (!p.range)
          return Error(module.loc(), "compile-net: input '" + name + "' needs a declared range (`" +
                                         name +
                                         ": real in [lo, hi]`): its bounds give the big-M "
                                         "constants");
        lo = p.range->first;
        hi = p.range->second;
        break;
      case ir::ScalarKind::Tuple:
        return Error(module.loc(), "compile-net: input '" + name + "' has a tuple type");
      }
      Val v;
      for (size_t i = 0; i < t.numScalars(); ++i) {
        const std::string col = t.isArray() ? name + "[" + std::to_string(i) + "]" : name;
        const int u = C.inputUnit(lo, hi, int(out.inputNames.size()), col);
        out.inputNames.push_back(col);
        integralCol.push_back(t.scalar != ir::ScalarKind::Real);
        out.inputLo.push_back(lo);
        out.inputHi.push_back(hi);
        const Lin x = Compiler::unitLin(u);
        if (t.scalar == ir::ScalarKind::Enum) {
          // One-hot of the index: [x == k] = [x >= k] - [x >= k + 1], exact at integers.
          const int K = int(ctx.enums()[size_t(t.enumId)].constants.size());
          const auto& names = ctx.enums()[size_t(t.enumId)].constants;
          for (int k = 0; k < K; ++k) {
            const std::string tag = col + "=" + names[size_t(k)];
            v.s.push_back(
                withRange(sub(C.intAtLeast(x, k, tag), C.intAtLeast(x, k + 1, tag)), 0, 1));
          }
        } else {
          v.s.push_back(x);
        }
      }
      args.push_back(std::move(v));
    }
    std::vector<Val> res = C.inlineCall(module, std::move(args));
    // Outputs: bool -> [1 - b, b]; enum -> one-hot; numbers -> the value.
    for (size_t k = 0; k < module.outputs().size(); ++k) {
      const ir::Var* o = module.outputs()[k];
      const ir::Type& t = o->type();
      const int w = C.width(t);
      for (size_t i = 0; i < t.numScalars(); ++i) {
        const std::string base =
            t.isArray() ? o->name() + "[" + std::to_string(i) + "]" : o->name();
        if (t.scalar == ir::ScalarKind::Bool) {
          const Lin& b = res[k].s[i];
          outputs.push_back(sub(constant(1), b));
          outputs.push_back(b);
          out.outputNames.push_back(base + "=false");
          out.outputNames.push_back(base + "=true");
        } else if (t.scalar == ir::ScalarKind::Enum) {
          for (int c = 0; c < w; ++c) {
            outputs.push_back(res[k].s[i * size_t(w) + size_t(c)]);
            out.outputNames.push_back(base + "=" +
                                      ctx.enums()[size_t(t.enumId)].constants[size_t(c)]);
          }
        } else {
          outputs.push_back(res[k].s[i]);
          out.outputNames.push_back(base);
        }
      }
    }
    if (outputs.empty())
      return Error(module.loc(), "compile-net: module '" + module.name() + "' has no outputs");
  } catch (const CompileFailure& f) {
    return f.error;
  }

  // ---- Layout: each unit in one layer, carries for values needed later -------------------------
  // Two placements are tried: as soon as possible (a unit in the layer of its depth) and as late
  // as possible (just below its first consumer); the one with fewer hidden neurons is kept
  // (ASAP on a tie). Both have the same number of layers, 1 + the largest depth of an output's
  // unit.
  const std::vector<Unit>& U = C.units;
  int maxDepth = 0;
  for (const Lin& l : outputs)
    for (auto [u, w] : l.t)
      maxDepth = std::max(maxDepth, U[size_t(u)].depth);
  const int L = maxDepth + 1; // layers 1..L; layer L is the affine output layer
  // need[j]: the units whose value layer j's output vector must hold (placed there or carried).
  auto plan = [&](const std::vector<int>& lay, long& neurons) {
    std::vector<std::set<int>> need(static_cast<size_t>(L));
    for (const Lin& l : outputs)
      for (auto [u, w] : l.t)
        need[size_t(L - 1)].insert(u);
    neurons = 0;
    for (int j = L - 1; j >= 1; --j)
      for (int u : need[size_t(j)]) {
        if (lay[size_t(u)] == j) {
          ++neurons;
          for (auto [v, w] : U[size_t(u)].pre.t)
            need[size_t(j - 1)].insert(v);
        } else {
          neurons += U[size_t(u)].lo < 0 && U[size_t(u)].hi > 0 ? 2 : 1;
          need[size_t(j - 1)].insert(u); // carried through layer j
        }
      }
    return need;
  };
  std::vector<int> asap(U.size()), alap(U.size(), L);
  for (size_t u = 0; u < U.size(); ++u)
    asap[u] = U[u].depth;
  for (const Lin& l : outputs)
    for (auto [u, w] : l.t)
      alap[size_t(u)] = L - 1;
  for (size_t u = U.size(); u-- > 0;) { // consumers have larger ids than what they read
    if (U[u].inputCol >= 0) {
      alap[u] = 0;
      continue;
    }
    if (alap[u] == L) continue; // not read by anything laid out
    for (auto [v, w] : U[u].pre.t)
      alap[size_t(v)] = std::min(alap[size_t(v)], alap[u] - 1);
  }
  for (size_t u = 0; u < U.size(); ++u)
    if (alap[u] == L) alap[u] = asap[u];
  long asapNeurons = 0, alapNeurons = 0;
  std::vector<std::set<int>> need = plan(asap, asapNeurons);
  std::vector<int> lay = asap;
  if (auto late = plan(alap, alapNeurons); alapNeurons < asapNeurons) {
    need = std::move(late);
    lay = alap;
  }
  // A comparison counts when the network computes it (one that a constant branch or a decided
  // operation dropped has no band).
  std::set<int> laidOut;
  for (const auto& n : need)
    laidOut.insert(n.begin(), n.end());
  for (auto [rise, cap] : C.comparisons)
    if (laidOut.count(rise) || laidOut.count(cap)) ++out.numComparisons;
  const int nIn = int(out.inputNames.size());
  std::vector<std::unordered_map<int, Rep>> rep(static_cast<size_t>(L));
  for (int u = 0; u < int(U.size()); ++u)
    if (U[size_t(u)].inputCol >= 0) rep[0][u] = Rep{{U[size_t(u)].inputCol, 1.0}};
  out.net.inputSize = nIn;
  std::vector<int> layerSize(size_t(L) + 1, 0);
  layerSize[0] = nIn;
  auto rowFrom = [](const Rep& r, double w, Eigen::MatrixXd& W, int row) {
    for (auto [n, c] : r)
      W(row, n) += w * c;
  };
  for (int j = 1; j <= L; ++j) {
    const auto& prev = rep[size_t(j - 1)];
    AffineLayer A;
    if (j == L) {
      A.W = Eigen::MatrixXd::Zero(long(outputs.size()), layerSize[size_t(j - 1)]);
      A.b = Eigen::VectorXd::Zero(long(outputs.size()));
      for (size_t r = 0; r < outputs.size(); ++r) {
        A.b(long(r)) = outputs[r].c;
        for (auto [u, w] : outputs[r].t)
          rowFrom(prev.at(u), w, A.W, int(r));
      }
      A.relu = false;
      out.net.layers.push_back(std::move(A));
      break;
    }
    // Rows: the units of depth j, then the carries (in unit order: deterministic).
    struct Row {
      Lin pre; // over units, read through prev
      std::string label;
    };
    std::vector<Row> rows;
    auto& cur = rep[size_t(j)];
    for (int u : need[size_t(j)])
      if (lay[size_t(u)] == j) {
        cur[u] = Rep{{int(rows.size()), 1.0}};
        rows.push_back({U[size_t(u)].pre, U[size_t(u)].label});
      }
    for (int u : need[size_t(j)]) {
      if (lay[size_t(u)] == j) continue;
      const Unit& un = U[size_t(u)];
      const std::string name = un.inputCol >= 0 ? un.label : "(" + un.label + ")";
      Rep r;
      // relu(v) carries v when v >= 0; relu(-v) when v <= 0; else both, v = p - n.
      if (un.hi > 0 || un.lo >= 0) {
        r.emplace_back(int(rows.size()), 1.0);
        rows.push_back({Compiler::unitLin(u), "carry " + name});
      }
      if (un.lo < 0) {
        r.emplace_back(int(rows.size()), -1.0);
        rows.push_back({scale(Compiler::unitLin(u), -1), "carry -" + name});
      }
      cur[u] = std::move(r);
    }
    layerSize[size_t(j)] = int(rows.size());
    A.W = Eigen::MatrixXd::Zero(long(rows.size()), layerSize[size_t(j - 1)]);
    A.b = Eigen::VectorXd::Zero(long(rows.size()));
    A.relu = true;
    std::vector<std::string> labels;
    for (size_t r = 0; r < rows.size(); ++r) {
      A.b(long(r)) = rows[r].pre.c;
      for (auto [u, w] : rows[r].pre.t)
        rowFrom(prev.at(u), w, A.W, int(r));
      labels.push_back(rows[r].label);
    }
    out.neuronLabels.push_back(std::move(labels));
    out.net.layers.push_back(std::move(A));
  }

  if (options.pruneOnDomain) pruneOnFiniteDomain(out, integralCol);

  // ---- Ground truth: nonzero edges on an input-to-output path
  // --------------------------------------
  const size_t nL = out.net.layers.size();
  std::vector<std::vector<bool>> fwd(nL + 1), bwd(nL + 1);
  fwd[0].assign(size_t(nIn), true);
  for (size_t j = 0; j < nL; ++j) {
    const Eigen::MatrixXd& W = out.net.layers[j].W;
    fwd[j + 1].assign(size_t(W.rows()), false);
    for (long r = 0; r < W.rows(); ++r)
      for (long c = 0; c < W.cols(); ++c)
        if (W(r, c) != 0 && fwd[j][size_t(c)]) fwd[j + 1][size_t(r)] = true;
  }
  bwd[nL].assign(size_t(out.net.layers.back().W.rows()), true);
  for (size_t j = nL; j-- > 0;) {
    const Eigen::MatrixXd& W = out.net.layers[j].W;
    bwd[j].assign(size_t(W.cols()), false);
    for (long r = 0; r < W.rows(); ++r)
      for (long c = 0; c < W.cols(); ++c)
        if (W(r, c) != 0 && bwd[j + 1][size_t(r)]) bwd[j][size_t(c)] = true;
  }
  for (size_t j = 0; j < nL; ++j) {
    const Eigen::MatrixXd& W = out.net.layers[j].W;
    EdgeMaskB m = EdgeMaskB::Constant(W.rows(), W.cols(), false);
    for (long r = 0; r < W.rows(); ++r)
      for (long c = 0; c < W.cols(); ++c)
        m(r, c) = W(r, c) != 0 && fwd[j][size_t(c)] && bwd[j + 1][size_t(r)];
    out.groundTruth.push_back(std::move(m));
  }
  return out;
}

} // namespace chassis::neural
