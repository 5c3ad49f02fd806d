// The interval domain of the shared evaluator (see interval_domain.h).
#include "symbolic/interval_domain.h"

#include "symbolic/evaluator.h"
#include "symbolic/op_semantics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace chassis::symbolic {

using namespace chassis::ir;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMax = std::numeric_limits<double>::max();
constexpr double kTiny = 0x1p-960; // below this a product or quotient may have underflowed

double below(double x) {
  return std::nextafter(x, -kInf);
}
double above(double x) {
  return std::nextafter(x, kInf);
}
/// `x` moved `n` ulps down (up): around a libm result, whose error is a few ulps at most.
double widenDown(double x, int n) {
  for (int k = 0; k < n; ++k)
    x = below(x);
  return x;
}
double widenUp(double x, int n) {
  for (int k = 0; k < n; ++k)
    x = above(x);
  return x;
}

// Directed rounding of one operation from its round-to-nearest result `r` and the sign of the
// exact error (exact - r), found by an error-free transformation. A lower bound that overflowed
// to +inf is the largest double (the exact value is above it); an upper bound at -inf likewise.
double lowerBound(double r, double err) {
  if (r == kInf) return kMax;
  if (std::isnan(r)) return -kInf;
  return err < 0 ? below(r) : r;
}
double upperBound(double r, double err) {
  if (r == -kInf) return -kMax;
  if (std::isnan(r)) return kInf;
  return err > 0 ? above(r) : r;
}
/// The error of a + b (TwoSum).
double sumError(double a, double b, double s) {
  const double bb = s - a;
  return (a - (s - bb)) + (b - bb);
}
double addDown(double a, double b) {
  const double s = a + b;
  return lowerBound(s, std::isfinite(s) ? sumError(a, b, s) : 0);
}
double addUp(double a, double b) {
  const double s = a + b;
  return upperBound(s, std::isfinite(s) ? sumError(a, b, s) : 0);
}
/// The error of a * b (exact by fma unless the product underflowed: then it is widened).
double mulDown(double a, double b) {
  const double p = a * b;
  if (!std::isfinite(p)) return lowerBound(p, 0);
  if (std::fabs(p) < kTiny && a != 0 && b != 0) return below(p);
  return lowerBound(p, std::fma(a, b, -p));
}
double mulUp(double a, double b) {
  const double p = a * b;
  if (!std::isfinite(p)) return upperBound(p, 0);
  if (std::fabs(p) < kTiny && a != 0 && b != 0) return above(p);
  return upperBound(p, std::fma(a, b, -p));
}
/// a / b - q has the sign of (a - q b) / b, and a - q b is exact by fma.
double divDown(double a, double b) {
  const double q = a / b;
  if (!std::isfinite(q)) return lowerBound(q, 0);
  if (std::fabs(q) < kTiny && a != 0) return below(q);
  const double r = std::fma(-q, b, a);
  return lowerBound(q, b > 0 ? r : -r);
}
double divUp(double a, double b) {
  const double q = a / b;
  if (!std::isfinite(q)) return upperBound(q, 0);
  if (std::fabs(q) < kTiny && a != 0) return above(q);
  const double r = std::fma(-q, b, a);
  return upperBound(q, b > 0 ? r : -r);
}

Interval hull(const Interval& a, const Interval& b) {
  return {std::min(a.lo, b.lo), std::max(a.hi, b.hi)};
}
void hullInto(IntervalValue& into, const IntervalValue& other) {
  into.s = hull(into.s, other.s);
  for (size_t k = 0; k < into.a.size() && k < other.a.size(); ++k)
    into.a[k] = hull(into.a[k], other.a[k]);
}

Interval iadd(const Interval& l, const Interval& r) {
  return {addDown(l.lo, r.lo), addUp(l.hi, r.hi)};
}
Interval isub(const Interval& l, const Interval& r) {
  return {addDown(l.lo, -r.hi), addUp(l.hi, -r.lo)};
}
Interval imul(const Interval& l, const Interval& r) {
  const double c[4][2] = {{l.lo, r.lo}, {l.lo, r.hi}, {l.hi, r.lo}, {l.hi, r.hi}};
  Interval out{kInf, -kInf};
  for (const auto& p : c) {
    out.lo = std::min(out.lo, mulDown(p[0], p[1]));
    out.hi = std::max(out.hi, mulUp(p[0], p[1]));
  }
  return out;
}
/// l / r for r not holding 0.
Interval idiv(const Interval& l, const Interval& r) {
  const double c[4][2] = {{l.lo, r.lo}, {l.lo, r.hi}, {l.hi, r.lo}, {l.hi, r.hi}};
  Interval out{kInf, -kInf};
  for (const auto& p : c) {
    out.lo = std::min(out.lo, divDown(p[0], p[1]));
    out.hi = std::max(out.hi, divUp(p[0], p[1]));
  }
  return out;
}

/// A condition over a box: whether it may be true, whether it may be false.
struct Tri {
  bool canTrue = true, canFalse = true;
};
/// Whether x may be nonzero (true) / zero (false).
Tri truthOfInterval(const Interval& x) {
  return {!(x.lo == 0 && x.hi == 0), x.lo <= 0 && 0 <= x.hi};
}

/// The interval domain of the evaluator, and its statements.
class IntervalExec : public ExprEvaluator<IntervalExec, IntervalValue>,
                     public StmtDispatch<IntervalExec, bool, std::vector<IntervalValue>&> {
public:
  std::string err;
  SourceLoc errLoc;
  bool errLocated = false;
  bool mayFail = false;

  bool fail(std::string msg) {
    err = std::move(msg);
    errLocated = false;
    return false;
  }
  Interval constant(double v) { return Interval::point(v); }

  /// op_semantics.h's generic operations on intervals: conditions are Tri; a `require` that
  /// cannot hold fails (the message built at the box's lower corner, which fails too), one that
  /// may fail marks mayFail.
  struct Arith {
    IntervalExec& d;
    static Interval num(double v) { return Interval::point(v); }
    static Interval add(const Interval& l, const Interval& r) { return iadd(l, r); }
    static Interval sub(const Interval& l, const Interval& r) { return isub(l, r); }
    static Interval mul(const Interval& l, const Interval& r) { return imul(l, r); }
    static Interval neg(const Interval& x) { return {-x.hi, -x.lo}; }
    static Interval abs(const Interval& x) {
      if (x.lo >= 0) return x;
      if (x.hi <= 0) return {-x.hi, -x.lo};
      return {0, std::max(-x.lo, x.hi)};
    }
    /// The nonzero integers of r: its negative part [lo, -1] and positive part [1, hi].
    template <typename F> static Interval overNonzero(const Interval& r, F&& f) {
      Interval out{kInf, -kInf};
      if (r.lo <= -1) out = hull(out, f(Interval{r.lo, std::min(r.hi, -1.0)}));
      if (r.hi >= 1) out = hull(out, f(Interval{std::max(r.lo, 1.0), r.hi}));
      return out.lo <= out.hi ? out : Interval{0, 0};
    }
    /// Truncation toward zero is monotone, so it maps the quotient's enclosure.
    static Interval truncDiv(const Interval& l, const Interval& r) {
      if (l.isPoint() && r.isPoint() && r.lo != 0) return num(ops::intDiv(l.lo, r.lo));
      return overNonzero(r, [&](const Interval& part) {
        const Interval q = idiv(l, part);
        return Interval{std::trunc(q.lo), std::trunc(q.hi)};
      });
    }
    /// |l % r| < |r| and <= |l|, with the dividend's sign.
    static Interval truncRem(const Interval& l, const Interval& r) {
      if (l.isPoint() && r.isPoint() && r.lo != 0) return num(ops::intMod(l.lo, r.lo));
      const double m = std::max(std::fabs(r.lo), std::fabs(r.hi)) - 1;
      return {l.lo >= 0 ? 0 : std::max(l.lo, -m), l.hi <= 0 ? 0 : std::min(l.hi, m)};
    }
    static Tri eq(const Interval& l, const Interval& r) {
      return {l.lo <= r.hi && r.lo <= l.hi, !(l.isPoint() && r.isPoint() && l.lo == r.lo)};
    }
    static Tri ne(const Interval& l, const Interval& r) {
      const Tri e = eq(l, r);
      return {e.canFalse, e.canTrue};
    }
    static Tri lt(const Interval& l, const Interval& r) { return {l.lo < r.hi, l.hi >= r.lo}; }
    static Tri le(const Interval& l, const Interval& r) { return {l.lo <= r.hi, l.hi > r.lo}; }
    static Tri gt(const Interval& l, const Interval& r) { return lt(r, l); }
    static Tri ge(const Interval& l, const Interval& r) { return le(r, l); }
    static Tri both(const Tri& a, const Tri& b) {
      return {a.canTrue && b.canTrue, a.canFalse || b.canFalse};
    }
    static Interval pick(const Tri& c, const Interval& t, const Interval& f) {
      if (!c.canFalse) return t;
      if (!c.canTrue) return f;
      return hull(t, f);
    }
    static Interval fromCond(const Tri& c) {
      if (!c.canFalse) return num(1);
      if (!c.canTrue) return num(0);
      return {0, 1};
    }
    template <class Message> bool require(const Tri& ok, ops::Fault, Message&& message) {
      if (!ok.canTrue) return d.fail(message([](const Interval& v) { return v.lo; }));
      if (ok.canFalse) d.mayFail = true;
      return true;
    }
    bool unsupported(std::string what) { return d.fail(std::move(what)); }
  };

  // ---- the hooks: both ways where a float64 domain decides ----

  template <typename T, typename F>
  bool branch(const Interval& c, T&& ifTrue, F&& ifFalse, IntervalValue& out) {
    const Tri t = truthOfInterval(c);
    if (!t.canFalse) return ifTrue(out);
    if (!t.canTrue) return ifFalse(out);
    IntervalValue tv, fv;
    const bool tOk = ifTrue(tv);
    const bool fOk = ifFalse(fv);
    return join(tOk, std::move(tv), fOk, std::move(fv), out);
  }
  /// The join of two ways that may each have failed for certain.
  template <typename V> bool join(bool aOk, V&& a, bool bOk, V&& b, V& out) {
    if (!aOk && !bOk) return false;
    if (aOk && bOk) {
      hullInto(a, b);
      out = std::move(a);
      return true;
    }
    mayFail = true;
    out = aOk ? std::move(a) : std::move(b);
    return true;
  }
  Interval truthOf(const Interval& x, bool negate) {
    Tri t = truthOfInterval(x);
    if (negate) std::swap(t.canTrue, t.canFalse);
    return Arith::fromCond(t);
  }
  Interval intToReal(const Interval& x) { return x; }
  bool intBinary(BinOp op, const Interval& x, const Interval& y, Interval& out) {
    Arith a{*this};
    return ops::intBinary(a, op, x, y, out);
  }
  bool intUnary(UnOp op, const Interval& x, Interval& out) {
    Arith a{*this};
    return ops::intUnary(a, op, x, out);
  }
  bool realComparison(BinOp op, const Interval& x, const Interval& y, Interval& out) {
    Arith a{*this};
    out = Arith::fromCond(ops::comparison(a, op, x, y));
    return true;
  }
  bool intSum(std::span<const Interval> xs, Interval& out) {
    Arith a{*this};
    return ops::intResult(a, sum(xs), "sum", out);
  }
  bool intDot(std::span<const Interval> xs, std::span<const Interval> ys, Interval& out) {
    Arith a{*this};
    return ops::intResult(a, dot(xs, ys), "dot", out);
  }
  /// Every k whose element may be the maximum: x_k's upper end reaches every element's lower end.
  bool argmax(std::span<const Interval> xs, bool, Interval& out) {
    double floorOfMax = -kInf;
    for (const Interval& x : xs)
      floorOfMax = std::max(floorOfMax, x.lo);
    double first = -1, last = -1;
    for (size_t k = 0; k < xs.size(); ++k)
      if (xs[k].hi >= floorOfMax) {
        if (first < 0) first = double(k);
        last = double(k);
      }
    out = first < 0 ? Interval::point(0) : Interval{first, last};
    return true;
  }
  /// The element indices the interval `i` may take, after ops::indexInRange.
  bool indexSpan(const Interval& i, int n, size_t& first, size_t& last) {
    Arith a{*this};
    if (!ops::indexInRange(a, i, n)) return false;
    first = size_t(std::max(0.0, std::ceil(i.lo)));
    last = size_t(std::min(double(n - 1), std::floor(i.hi)));
    return first <= last || fail("internal: an index interval without an integer in range");
  }
  bool indexRead(const std::vector<Interval>& src, const Interval& i, int n, size_t w, bool isArray,
                 IntervalValue& out) {
    size_t first = 0, last = 0;
    if (!indexSpan(i, n, first, last)) return false;
    std::vector<Interval> slice(src.begin() + long(first * w), src.begin() + long((first + 1) * w));
    for (size_t k = first + 1; k <= last; ++k)
      for (size_t j = 0; j < w; ++j)
        slice[j] = hull(slice[j], src[k * w + j]);
    if (isArray)
      out.a = std::move(slice);
    else
      out.s = slice[0];
    return true;
  }
  bool indexWrite(std::vector<Interval>& dst, const Interval& i, int n, const IntervalValue& v,
                  size_t w, bool isArray) {
    size_t first = 0, last = 0;
    if (!indexSpan(i, n, first, last)) return false;
    for (size_t k = first; k <= last; ++k)
      for (size_t j = 0; j < w; ++j) {
        const Interval& x = isArray ? v.a[j] : v.s;
        dst[k * w + j] = first == last ? x : hull(dst[k * w + j], x);
      }
    return true;
  }

  // ---- real operations ----

  /// A real result: finite at the points where the interpreter succeeds (clamped to the
  /// doubles; may fail when an end is not finite).
  bool real(Interval r, Interval& out) {
    if (std::isnan(r.lo) || std::isnan(r.hi)) r = {-kInf, kInf};
    if (r.lo > kMax || r.hi < -kMax) mayFail = true; // unreachable with directed bounds
    if (!(std::isfinite(r.lo) && std::isfinite(r.hi))) mayFail = true;
    out = {std::clamp(r.lo, -kMax, kMax), std::clamp(r.hi, -kMax, kMax)};
    return true;
  }
  bool realNeg(const Interval& x, Interval& out) { return out = Arith::neg(x), true; }
  bool realAbs(const Interval& x, Interval& out) { return out = Arith::abs(x), true; }
  bool realRelu(const Interval& x, Interval& out) {
    return out = {std::max(x.lo, 0.0), std::max(x.hi, 0.0)}, true;
  }
  bool realExp(const Interval& x, Interval& out) {
    return real({std::max(0.0, widenDown(std::exp(x.lo), 2)), widenUp(std::exp(x.hi), 2)}, out);
  }
  bool realLog(const Interval& x, Interval& out) {
    if (!ops::logDefined(x.hi)) return fail(*ops::logDomainError(x.hi));
    double lo = x.lo;
    if (!ops::logDefined(lo)) {
      mayFail = true;
      lo = std::numeric_limits<double>::denorm_min();
    }
    return real({widenDown(std::log(lo), 2), widenUp(std::log(x.hi), 2)}, out);
  }
  bool realSqrt(const Interval& x, Interval& out) {
    if (!ops::sqrtDefined(x.hi)) return fail(*ops::sqrtDomainError(x.hi));
    double lo = x.lo;
    if (!ops::sqrtDefined(lo)) {
      mayFail = true;
      lo = 0;
    }
    const double sl = std::sqrt(lo), sh = std::sqrt(x.hi);
    out = {lowerBound(sl, std::fma(-sl, sl, lo)), upperBound(sh, std::fma(-sh, sh, x.hi))};
    out.lo = std::max(out.lo, 0.0);
    return true;
  }
  bool realSigmoid(const Interval& x, Interval& out) {
    out = {std::max(0.0, widenDown(ops::sigmoid(x.lo), 4)),
           std::min(1.0, widenUp(ops::sigmoid(x.hi), 4))};
    return true;
  }
  bool realTanh(const Interval& x, Interval& out) {
    out = {std::max(-1.0, widenDown(std::tanh(x.lo), 2)),
           std::min(1.0, widenUp(std::tanh(x.hi), 2))};
    return true;
  }
  bool realAdd(const Interval& l, const Interval& r, Interval& out) {
    return real(iadd(l, r), out);
  }
  bool realSub(const Interval& l, const Interval& r, Interval& out) {
    return real(isub(l, r), out);
  }
  bool realMul(const Interval& l, const Interval& r, Interval& out) {
    return real(imul(l, r), out);
  }
  bool realDiv(const Interval& l, const Interval& r, Interval& out) {
    Arith a{*this};
    if (!ops::nonzeroDivisor(a, BinOp::Div, r)) return false;
    if (r.lo < 0 && r.hi > 0) return real({-kInf, kInf}, out);
    Interval d = r; // the divisors other than 0
    if (d.lo == 0) d.lo = std::numeric_limits<double>::denorm_min();
    if (d.hi == 0) d.hi = -std::numeric_limits<double>::denorm_min();
    return real(idiv(l, d), out);
  }
  bool realMin(const Interval& l, const Interval& r, Interval& out) {
    return out = {std::min(l.lo, r.lo), std::min(l.hi, r.hi)}, true;
  }
  bool realMax(const Interval& l, const Interval& r, Interval& out) {
    return out = {std::max(l.lo, r.lo), std::max(l.hi, r.hi)}, true;
  }
  static Interval sum(std::span<const Interval> xs) {
    Interval s = Interval::point(0);
    for (const Interval& x : xs)
      s = iadd(s, x);
    return s;
  }
  static Interval dot(std::span<const Interval> xs, std::span<const Interval> ys) {
    Interval s = Interval::point(0);
    for (size_t k = 0; k < xs.size(); ++k)
      s = iadd(s, imul(xs[k], ys[k]));
    return s;
  }
  bool realSum(std::span<const Interval> xs, Interval& out) { return real(sum(xs), out); }
  bool realDot(std::span<const Interval> xs, std::span<const Interval> ys, Interval& out) {
    return real(dot(xs, ys), out);
  }
  bool affineRow(const DenseLayer& l, int r, std::span<const Interval> x, Interval& out) {
    Interval acc = Interval::point(l.b(r));
    for (int c = 0; c < l.cols; ++c)
      acc = iadd(acc, imul(Interval::point(l.w(r, c)), x[size_t(c)]));
    return real(acc, out);
  }
  bool callPure(const Function& f, std::vector<IntervalValue>& args,
                std::vector<IntervalValue>& outs) {
    return callFunction(f, args, outs);
  }

  // ---- statements ----

  /// Runs `f` on the box `args` (each intersected with its input's declared range).
  bool callFunction(const Function& f, std::vector<IntervalValue>& args,
                    std::vector<IntervalValue>& outs) {
    if (f.kind() == FunctionKind::External) return fail(ops::networkNotLoaded(f));
    std::vector<IntervalValue> frame(size_t(f.numSlots()));
    for (const Var* v : f.vars())
      if (v->type().isArray()) frame[size_t(v->slot())].a.assign(v->type().numScalars(), {0, 0});
    for (size_t k = 0; k < args.size() && k < f.inputs().size(); ++k) {
      const Param& p = f.inputs()[k];
      IntervalValue v = args[k];
      // The points cut off here are inputs the interpreter rejects: they fail.
      auto restrict = [&](Interval& x) {
        const Interval given = x;
        const ScalarKind kind = p.var->type().scalar;
        if (kind == ScalarKind::Bool) x = {std::max(x.lo, 0.0), std::min(x.hi, 1.0)};
        if (kind == ScalarKind::Bool || kind == ScalarKind::Int || kind == ScalarKind::Enum)
          x = {std::ceil(x.lo), std::floor(x.hi)};
        if (p.range) x = {std::max(x.lo, p.range->first), std::min(x.hi, p.range->second)};
        x = {std::max(x.lo, -kMax), std::min(x.hi, kMax)}; // inputs are finite
        if (x.lo != given.lo || x.hi != given.hi) mayFail = true;
        return x.lo <= x.hi;
      };
      bool nonEmpty = true;
      if (p.var->type().isArray()) {
        for (Interval& x : v.a)
          nonEmpty = restrict(x) && nonEmpty;
      } else {
        nonEmpty = restrict(v.s);
      }
      if (!nonEmpty)
        return fail("input '" + p.var->name() + "' has no value in its declared range" +
                    (f.name().empty() ? "" : " (calling '" + f.name() + "')"));
      frame[size_t(p.var->slot())] = std::move(v);
    }
    if (!block(f.body(), frame)) return false;
    outs.clear();
    for (const Var* o : f.outputs())
      outs.push_back(frame[size_t(o->slot())]);
    return true;
  }

  bool block(const Block& b, std::vector<IntervalValue>& fr) {
    for (Stmt s : b)
      if (!stmt(s, fr)) {
        if (!errLocated) {
          errLoc = s->loc();
          errLocated = true;
        }
        return false;
      }
    return true;
  }

  bool stmtLet(const LetStmt& x, std::vector<IntervalValue>& fr) {
    return eval(x.value, fr, fr[size_t(x.var->slot())]);
  }
  bool stmtAssign(const AssignStmt& x, std::vector<IntervalValue>& fr) {
    IntervalValue v;
    if (!eval(x.value, fr, v)) return false;
    fr[size_t(x.var->slot())] = std::move(v);
    return true;
  }
  bool randomStatement(const char* kind) {
    return fail(std::string("interval evaluation covers deterministic code only: a ") + kind +
                " statement is not evaluated");
  }
  bool stmtSample(const SampleStmt&, std::vector<IntervalValue>&) {
    return randomStatement("sample");
  }
  bool stmtObserve(const ObserveStmt&, std::vector<IntervalValue>&) {
    return randomStatement("observe");
  }
  bool stmtCondition(const ConditionStmt&, std::vector<IntervalValue>&) {
    return randomStatement("condition");
  }
  bool stmtFactor(const FactorStmt&, std::vector<IntervalValue>&) {
    return randomStatement("factor");
  }
  bool stmtAssert(const AssertStmt& x, std::vector<IntervalValue>& fr) {
    IntervalValue v;
    if (!eval(x.cond, fr, v)) return false;
    const Tri t = truthOfInterval(v.s);
    if (!t.canTrue) return fail(ops::assertionFailed(x.message));
    if (t.canFalse) mayFail = true;
    return true;
  }
  bool stmtIf(const IfStmt& x, std::vector<IntervalValue>& fr) {
    IntervalValue c;
    if (!eval(x.cond, fr, c)) return false;
    const Tri t = truthOfInterval(c.s);
    if (!t.canFalse) return block(x.thenBody, fr);
    if (!t.canTrue) return block(x.elseBody, fr);
    std::vector<IntervalValue> other = fr;
    const bool tOk = block(x.thenBody, fr);
    const bool fOk = block(x.elseBody, other);
    if (!tOk && !fOk) return false;
    if (tOk && fOk) {
      for (size_t k = 0; k < fr.size(); ++k)
        hullInto(fr[k], other[k]);
      return true;
    }
    mayFail = true;
    if (!tOk) fr = std::move(other);
    return true;
  }
  bool stmtFor(const ForStmt& x, std::vector<IntervalValue>& fr) {
    for (int64_t k = x.lo; k < x.hi; ++k) {
      fr[size_t(x.index->slot())].s = Interval::point(double(k));
      if (!block(x.body, fr)) return false;
    }
    return true;
  }
  bool stmtCall(const CallStmt& x, std::vector<IntervalValue>& fr) {
    std::vector<IntervalValue> args(x.args.size()), outs;
    for (size_t k = 0; k < args.size(); ++k)
      if (!eval(x.args[k], fr, args[k])) return false;
    if (!callFunction(*x.callee, args, outs)) return false;
    for (size_t k = 0; k < x.results.size() && k < outs.size(); ++k)
      if (x.results[k]) fr[size_t(x.results[k]->slot())] = std::move(outs[k]);
    return true;
  }
};

} // namespace

Expected<IntervalResult> evaluateIntervals(const Function& f,
                                           std::span<const IntervalValue> inputs) {
  if (inputs.size() != f.inputs().size())
    return Error(f.loc(), "module '" + f.name() + "' takes " + std::to_string(f.inputs().size()) +
                              " inputs, got " + std::to_string(inputs.size()));
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Type& t = f.inputs()[k].var->type();
    const bool ok = t.isArray() ? inputs[k].a.size() == t.numScalars() : inputs[k].a.empty();
    bool ordered = t.isArray() ? true : inputs[k].s.lo <= inputs[k].s.hi;
    for (const Interval& x : inputs[k].a)
      ordered = ordered && x.lo <= x.hi;
    if (!ok || !ordered)
      return Error(f.loc(), "input '" + f.inputs()[k].var->name() + "' is not a box of its type (" +
                                std::to_string(t.numScalars()) + " intervals with lo <= hi)");
  }
  IntervalExec x;
  std::vector<IntervalValue> args(inputs.begin(), inputs.end()), outs;
  if (!x.callFunction(f, args, outs)) return Error(x.errLocated ? x.errLoc : f.loc(), x.err);
  IntervalResult r;
  r.outputs = std::move(outs);
  r.mayFail = x.mayFail;
  return r;
}

} // namespace chassis::symbolic
