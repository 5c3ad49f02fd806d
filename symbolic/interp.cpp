// The reference interpreter (see interp.h; semantics in spec/ir.h). A tree-walking evaluator over
// the IR: statements run in order over a frame of values indexed by variable slot; expressions
// are evaluated by the shared traversal of symbolic/evaluator.h in the float64 domain below,
// scalars without allocation (a Value's vector stays empty), arrays as flat row-major vectors.
// Failures set `err_` (a message) and return false; the statement being executed attaches its
// SourceLoc, so every error is `file:line:col: error: ...`.
//
// Numbers (symbolic/op_semantics.h, shared with the AD tape): ints are held exactly in doubles
// while |v| <= 2^53 (beyond: an error); int `/` truncates toward zero and `%` takes the dividend's
// sign (C semantics, via int64); sigmoid is computed as 1/(1+e^-x) for x >= 0 and e^x/(1+e^x)
// otherwise (no overflow); any real result that is not a finite float64 is an error (an overflow
// of the float64 approximation of a real computation).
#include "symbolic/interp.h"

#include "symbolic/distributions.h"
#include "symbolic/evaluator.h"
#include "symbolic/node_pool.h"
#include "symbolic/op_semantics.h"
#include "symbolic/special.h"

#include "spec/data_json.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>

namespace chassis::symbolic {

using namespace chassis::ir;

namespace {

using ops::kMaxExactInt;

/// The values of the constant array literals: an ArrayLit whose every element is a constant (or,
/// for a matrix, a constant array literal), such as the `[0.0, 0.0, ...]` that spec/lower.cpp
/// makes of `var z: real[T]`. The interpreter evaluates such a literal once per thread and gives
/// every later evaluation that value: a copy of a SharedArray is O(1), and a write into one copy
/// (z[t] = v) copies only the leaf and the path it changes, so the other uses keep their values.
/// Why: SMC runs `var z: real[T]` once per particle (in the model's frame, copied at resampling);
/// built element by element, that was T pushes per particle and T / 64 private leaves of zeros
/// until the particle wrote them.
///
/// The literal's node is the key (the IR is hash-consed: the same node at every run of the
/// statement, in every run of the program). A node's address may be taken again by another
/// program's node once its Program is freed, so a stored value is given only when the node's
/// scalars are, bit for bit, the stored ones (read from the node being evaluated: no writes, no
/// allocation); else the entry is replaced. One table per thread (SMC's and LW's threads run
/// without a lock); it holds at most kMaxScalars scalars (beyond, it is emptied: the entries of
/// programs freed since go then).
class ConstantArrays {
public:
  /// The value of `l` when it is a constant literal (then true); else false and `out` unchanged.
  static bool lookup(const ArrayLit& l, SharedArray& out) { return forThread().get(l, out); }

  static constexpr size_t kMaxScalars = size_t(1) << 20;

private:
  struct Entry {
    std::vector<double> scalars; // the literal's scalars, row-major
    SharedArray value;
  };

  static ConstantArrays& forThread() {
    // The pool's per-thread lists (symbolic/node_pool.h) are set up first, so that their exit
    // guard is destroyed after this table (thread-locals go in the reverse order of their
    // construction) and counts the blocks the table gives back at the thread's exit.
    (void)pool::liveBlocks();
    thread_local ConstantArrays table;
    return table;
  }

  /// Whether the first scalar of `e` is a constant: a literal that is not constant is told from
  /// a constant one at its first element, most often (`[x, y]`), before any table look-up.
  static bool leadsWithConstant(Expr e) {
    while (const ArrayLit* a = e->as<ArrayLit>()) {
      if (a->elements().empty()) return false;
      e = a->elements()[0];
    }
    return e->is<Const>();
  }

  /// Whether `e` is a constant whose scalars are those from `p` on (then `p` is moved past them).
  static bool matches(Expr e, const double*& p, const double* end) {
    if (const Const* c = e->as<Const>()) {
      const double x = c->asDouble();
      if (p == end || std::memcmp(&x, p, sizeof x) != 0) return false;
      ++p;
      return true;
    }
    const ArrayLit* a = e->as<ArrayLit>();
    if (!a) return false;
    for (Expr el : a->elements())
      if (!matches(el, p, end)) return false;
    return true;
  }

  /// Whether `e` is a constant: a Const or a literal of constants (read only, no allocation).
  static bool isConstant(Expr e) {
    if (e->is<Const>()) return true;
    const ArrayLit* a = e->as<ArrayLit>();
    if (!a) return false;
    for (Expr el : a->elements())
      if (!isConstant(el)) return false;
    return true;
  }

  /// Appends the scalars of the constant `e` (isConstant) to `out`.
  static void scalarsOf(Expr e, std::vector<double>& out) {
    if (const Const* c = e->as<Const>()) {
      out.push_back(c->asDouble());
      return;
    }
    for (Expr el : e->as<ArrayLit>()->elements())
      scalarsOf(el, out);
  }

  bool get(const ArrayLit& l, SharedArray& out) {
    if (!leadsWithConstant(&l)) return false;
    const auto it = table_.find(&l);
    if (it != table_.end()) {
      const std::vector<double>& v = it->second.scalars;
      const double* p = v.data();
      if (matches(&l, p, v.data() + v.size()) && p == v.data() + v.size()) {
        out = it->second.value;
        return true;
      }
    }
    // (A literal with a variable, such as [0.0, x], is told without allocating: it is
    // evaluated at every run.)
    if (!isConstant(&l)) return false;
    std::vector<double> scalars;
    scalars.reserve(l.type().numScalars());
    scalarsOf(&l, scalars);
    // One value repeated (zeros): one leaf shared by every slot (SharedArray's fill), else a tree
    // of the scalars.
    const bool repeated = std::all_of(scalars.begin(), scalars.end(), [&](double x) {
      return std::memcmp(&x, scalars.data(), sizeof x) == 0;
    });
    SharedArray value = repeated ? SharedArray(scalars.size(), scalars[0]) : SharedArray(scalars);
    if (scalars.size() > kMaxScalars) { // too large to keep
      out = std::move(value);
      return true;
    }
    if (it != table_.end()) {
      held_ -= it->second.scalars.size();
      table_.erase(it);
    }
    if (held_ + scalars.size() > kMaxScalars) {
      table_.clear();
      held_ = 0;
    }
    held_ += scalars.size();
    out = value;
    table_.emplace(&l, Entry{std::move(scalars), std::move(value)});
    return true;
  }

  std::unordered_map<const ArrayLit*, Entry> table_;
  size_t held_ = 0; // scalars in table_
};

/// One run: the options, the generator, the trace being built, and the current error. Its
/// expressions run on the shared evaluator (symbolic/evaluator.h) in the float64 domain, its
/// statements through the generated statement dispatch.
class Exec : public ExprEvaluator<Exec, Value>,
             public StmtDispatch<Exec, bool, std::vector<Value>&> {
public:
  Exec(Rng* rng, const RunOptions& opt, Trace& trace) : rng_(rng), opt_(opt), trace_(trace) {}

  std::string err_;
  SourceLoc errLoc_;
  bool errLocated_ = false;

  bool fail(std::string msg) {
    err_ = std::move(msg);
    return false;
  }

  // ---- the float64 domain of the evaluator (symbolic/evaluator.h) ----

  double constant(double v) { return v; }
  double plain(double v) { return v; }

  bool real(double r, std::string_view what, double& out) {
    if (auto why = ops::realResultError(r, what)) return fail(std::move(*why));
    out = r;
    return true;
  }

  bool realNeg(double x, double& out) { return out = -x, true; }
  bool realAbs(double x, double& out) { return out = std::fabs(x), true; }
  bool realRelu(double x, double& out) { return out = ops::relu(x), true; }
  bool realExp(double x, double& out) { return real(std::exp(x), "exp", out); }
  bool realLog(double x, double& out) {
    if (auto why = ops::logDomainError(x)) return fail(std::move(*why));
    return real(std::log(x), "log", out);
  }
  bool realSqrt(double x, double& out) {
    if (auto why = ops::sqrtDomainError(x)) return fail(std::move(*why));
    return out = std::sqrt(x), true;
  }
  bool realSigmoid(double x, double& out) { return out = ops::sigmoid(x), true; }
  bool realTanh(double x, double& out) { return out = std::tanh(x), true; }
  bool realAdd(double l, double r, double& out) { return real(l + r, "+", out); }
  bool realSub(double l, double r, double& out) { return real(l - r, "-", out); }
  bool realMul(double l, double r, double& out) { return real(l * r, "*", out); }
  bool realDiv(double l, double r, double& out) {
    if (auto why = ops::divisorError(BinOp::Div, r)) return fail(std::move(*why));
    return real(l / r, "/", out);
  }
  bool realMin(double l, double r, double& out) {
    out = ops::minPicksLeft(l, r) ? l : r;
    return true;
  }
  bool realMax(double l, double r, double& out) {
    out = ops::maxPicksLeft(l, r) ? l : r;
    return true;
  }
  bool realSum(const SharedArray& xs, double& out) {
    double s = 0;
    for (double a : xs)
      s += a;
    return real(s, "sum", out);
  }
  bool realDot(const SharedArray& xs, const SharedArray& ys, double& out) {
    double s = 0;
    auto y = ys.begin();
    for (auto x = xs.begin(); x != xs.end(); ++x, ++y)
      s += *x * *y;
    return real(s, "dot", out);
  }
  bool realCompare(BinOp op, double l, double r, bool& outcome) {
    outcome = ops::compare(op, l, r);
    return true;
  }
  bool realArgmax(const SharedArray& xs, size_t& best) {
    best = 0;
    double top = xs.empty() ? 0 : xs[0];
    size_t k = 0;
    for (double x : xs) {
      if (k > 0 && x > top) best = k, top = x;
      ++k;
    }
    return true;
  }
  /// b_r + sum_c W_rc x_c, summed in that order.
  bool affineRow(const DenseLayer& l, int r, std::span<const double> x, double& out) {
    double acc = l.b(r);
    for (int c = 0; c < l.cols; ++c)
      acc += l.w(r, c) * x[size_t(c)];
    return real(acc, "an affine layer", out);
  }

  // ---- the array hooks (symbolic/evaluator.h) that write: through SharedArray::set() ----

  bool indexWrite(SharedArray& dst, double i, int n, const Value& v, size_t w, bool isArray) {
    size_t k = 0;
    if (!checkedIndex(i, n, k)) return false;
    if (isArray)
      for (size_t j = 0; j < w; ++j)
        dst.set(k * w + j, v.a[j]);
    else
      dst.set(k, v.s);
    return true;
  }
  void arrayStart(SharedArray& a, size_t n) {
    a.clear();
    a.reserve(n);
  }
  void arrayAppend(SharedArray& a, size_t, const Value& v, size_t, bool isArray) {
    if (isArray)
      for (double x : v.a)
        a.push_back(x);
    else
      a.push_back(v.s);
  }
  void arrayOwn(SharedArray&, size_t) {} // set() copies what is shared
  bool constantArray(const ArrayLit& l, Value& out) { return ConstantArrays::lookup(l, out.a); }
  bool affineLayer(const DenseLayer& l, const SharedArray& in, SharedArray& out) {
    const std::span<const double> x = in.contiguous(scratch_);
    std::vector<double> o(size_t(l.rows));
    for (int r = 0; r < l.rows; ++r)
      if (!affineRow(l, r, x, o[size_t(r)])) return false;
    out = SharedArray(o);
    return true;
  }
  bool vecRelu(SharedArray& xs) {
    std::vector<double> v = xs.vec();
    for (double& x : v)
      x = ops::relu(x);
    xs = SharedArray(v);
    return true;
  }
  bool callPure(const Function& f, std::vector<Value>& args, std::vector<Value>& outs) {
    return callFunction(f, args, "", outs);
  }

  // ---- statements ----

  /// Runs `f` on `args`; on success `outs` holds its outputs. `prefix` prefixes the addresses
  /// of its random choices. An error inside is located at the failing statement.
  bool callFunction(const Function& f, std::span<const Value> args, const std::string& prefix,
                    std::vector<Value>& outs) {
    if (f.kind() == FunctionKind::External)
      return fail(ops::networkNotLoaded(f));
    for (size_t k = 0; k < args.size(); ++k)
      if (auto why = checkInput(f, k, args[k])) return fail(*why + " (calling '" + f.name() + "')");
    std::vector<Value> frame(size_t(f.numSlots()));
    for (const Var* v : f.vars())
      if (v->type().isArray()) frame[v->slot()] = zeroValue(v->type());
    for (size_t k = 0; k < args.size(); ++k)
      frame[f.inputs()[k].var->slot()] = args[k];
    std::string saved = std::move(prefix_);
    prefix_ = prefix;
    bool ok = block(f.body(), frame);
    prefix_ = std::move(saved);
    if (!ok) {
      if (stopped_ && susp_) { // suspended inside the callee: keep its frame to resume it
        susp_->frames.push_back(std::move(frame));
        susp_->prefixes.push_back(prefix);
      }
      return false;
    }
    return finishCall(f, frame, outs);
  }

  /// Resumes the innermost suspended call of `f` (its frame and prefix are at the back of the
  /// suspension's stacks) and, when it completes, collects its outputs.
  bool resumeCall(const Function& f, std::vector<Value>& outs) {
    std::vector<Value> frame = std::move(susp_->frames.back());
    std::string prefix = std::move(susp_->prefixes.back());
    susp_->frames.pop_back();
    susp_->prefixes.pop_back();
    std::string saved = std::move(prefix_);
    prefix_ = prefix;
    bool ok = block(f.body(), frame);
    prefix_ = std::move(saved);
    if (!ok) {
      if (stopped_) {
        susp_->frames.push_back(std::move(frame));
        susp_->prefixes.push_back(std::move(prefix));
      }
      return false;
    }
    return finishCall(f, frame, outs);
  }

  bool finishCall(const Function& f, std::vector<Value>& frame, std::vector<Value>& outs) {
    outs.clear();
    for (const Var* o : f.outputs())
      outs.push_back(std::move(frame[o->slot()]));
    lastFrame_ = std::move(frame);
    return true;
  }

  bool block(const Block& b, std::vector<Value>& fr) {
    size_t i = 0;
    if (resuming_) {
      // Suspension::positions: (i << 1) | 1 resumes inside compound statement i, (i << 1)
      // starts afresh at statement i (the one after the observe that stopped the run).
      const int64_t p = popPosition();
      i = size_t(p >> 1);
      if (!(p & 1)) resuming_ = false;
    }
    for (; i < b.size(); ++i)
      if (!stmt(b[i], fr)) {
        if (stopped_) {
          if (susp_)
            susp_->positions.push_back(b[i]->kind() == StmtKind::Observe
                                           ? int64_t(i + 1) << 1
                                           : (int64_t(i) << 1) | 1);
          return false;
        }
        if (!errLocated_) {
          errLoc_ = b[i]->loc();
          errLocated_ = true;
        }
        return false;
      }
    return true;
  }

  int64_t popPosition() {
    const int64_t p = susp_->positions.back();
    susp_->positions.pop_back();
    return p;
  }

  std::string address(const std::string& name, const std::vector<Expr>& idx,
                      std::span<const Value> fr) {
    std::string a = prefix_ + name;
    Value v;
    for (Expr i : idx) {
      if (!eval(i, fr, v)) return a + "[?]";
      a += "[" + formatNumber(v.s) + "]";
    }
    return a;
  }

  /// Evaluates distribution parameters into `ps` (Categorical: its weight vector) and validates.
  bool params(DistKind d, const std::vector<Expr>& es, std::span<const Value> fr,
              std::vector<double>& ps) {
    if (!evalFlat(es, fr, ps)) return false;
    if (auto why = validateParams(d, ps)) return fail("invalid distribution parameter: " + *why);
    return true;
  }

  bool stmtLet(const LetStmt& x, std::vector<Value>& fr) {
    return eval(x.value, fr, fr[x.var->slot()]);
  }

  bool stmtAssign(const AssignStmt& x, std::vector<Value>& fr) {
    // y = update(y, i, v): in place, without copying the array.
    if (auto* u = x.value->as<Update>();
        u && u->array() == x.var && !u->type().elementIsArray()) {
      Value idx, v;
      if (!eval(u->index(), fr, idx) || !eval(u->value(), fr, v)) return false;
      if (auto why = ops::indexError(idx.s, u->type().length())) return fail(std::move(*why));
      fr[x.var->slot()].a.set(size_t(idx.s), v.s);
      return true;
    }
    Value v;
    if (!eval(x.value, fr, v)) return false;
    fr[x.var->slot()] = std::move(v);
    return true;
  }

  bool stmtSample(const SampleStmt& x, std::vector<Value>& fr) {
    if (!params(x.dist, x.params, fr, ps_)) return false;
    std::string addr;
    if (opt_.recordChoices || opt_.replay) addr = address(x.name, x.indices, fr);
    double value = 0;
    bool replayed = false;
    if (opt_.replay) {
      if (auto it = opt_.replay->find(addr); it != opt_.replay->end()) {
        value = it->second;
        replayed = true;
      }
    }
    if (!replayed && isFlat(x.dist))
      return fail("'" + x.name + "' has a flat prior, " + std::string(flatSourceForm(x.dist)) +
                  ", which nothing can be drawn from (its density 1 is improper, or unnormalised "
                  "with both bounds): only NUTS samples it (chassis infer --method nuts)");
    if (!replayed) value = sample(x.dist, ps_, *rng_);
    double lp = logDensity(x.dist, ps_, value);
    trace_.logPrior += lp;
    if (opt_.recordChoices)
      trace_.choices.push_back({std::move(addr), x.dist, ps_, value, lp, replayed});
    fr[x.var->slot()].s = value;
    return true;
  }

  bool stmtObserve(const ObserveStmt& x, std::vector<Value>& fr) {
    if (!params(x.dist, x.params, fr, ps_)) return false;
    Value v;
    if (!eval(x.value, fr, v)) return false;
    trace_.logLikelihood += logDensity(x.dist, ps_, v.s);
    ++trace_.numObserves;
    if (opt_.stopAfterObserves >= 0 && trace_.numObserves >= opt_.stopAfterObserves) {
      stopped_ = true;
      return false;
    }
    return true;
  }

  bool stmtCondition(const ConditionStmt& x, std::vector<Value>& fr) {
    Value v;
    if (!eval(x.cond, fr, v)) return false;
    ++trace_.numConditions;
    if (v.s == 0) trace_.conditionFailed = true;
    return true;
  }

  bool stmtFactor(const FactorStmt& x, std::vector<Value>& fr) {
    Value v;
    if (!eval(x.logWeight, fr, v)) return false;
    if (auto why = ops::factorError(v.s)) return fail(std::move(*why));
    trace_.logFactor += v.s;
    ++trace_.numFactors;
    return true;
  }

  bool stmtAssert(const AssertStmt& x, std::vector<Value>& fr) {
    Value v;
    if (!eval(x.cond, fr, v)) return false;
    if (v.s == 0) return fail(ops::assertionFailed(x.message));
    return true;
  }

  bool stmtIf(const IfStmt& x, std::vector<Value>& fr) {
    Value v;
    if (resuming_)
      v.s = double(popPosition()); // the branch the suspended run was in
    else if (!eval(x.cond, fr, v))
      return false;
    if (block(v.s != 0 ? x.thenBody : x.elseBody, fr)) return true;
    if (stopped_ && susp_) susp_->positions.push_back(v.s != 0 ? 1 : 0);
    return false;
  }

  bool stmtFor(const ForStmt& x, std::vector<Value>& fr) {
    Value& i = fr[x.index->slot()];
    for (int64_t k = resuming_ ? popPosition() : x.lo; k < x.hi; ++k) {
      i.s = double(k);
      if (!block(x.body, fr)) {
        if (stopped_ && susp_) susp_->positions.push_back(k); // the iteration it stopped in
        return false;
      }
    }
    return true;
  }

  bool stmtCall(const CallStmt& x, std::vector<Value>& fr) {
    std::vector<Value> outs;
    if (resuming_) {
      if (!resumeCall(*x.callee, outs)) return false;
    } else {
      std::vector<Value> args(x.args.size());
      for (size_t k = 0; k < args.size(); ++k)
        if (!eval(x.args[k], fr, args[k])) return false;
      std::string site = address(x.site, x.siteIndices, fr);
      if (!callFunction(*x.callee, args, site + "/", outs)) return false;
    }
    for (size_t k = 0; k < x.results.size() && k < outs.size(); ++k)
      if (x.results[k]) fr[x.results[k]->slot()] = std::move(outs[k]);
    return true;
  }

  bool stopped_ = false; // the run was stopped by stopAfterObserves (not an error)
  Suspension* susp_ = nullptr; // resume(): where a stop records its position (null: run())
  bool resuming_ = false;      // resume(): re-entering the statements on susp_'s positions
  Rng* rng_;
  const RunOptions& opt_;
  Trace& trace_;
  std::string prefix_;
  std::vector<double> ps_;
  std::vector<double> scratch_; // affineLayer: a multi-leaf input made contiguous
  std::vector<Value> lastFrame_;
};

Error located(const Exec& x, const SourceLoc& fallback) {
  return Error(x.errLocated_ ? x.errLoc_ : fallback, x.err_);
}

} // namespace

Value zeroValue(const Type& t) {
  if (!t.isArray()) return Value::scalar(0);
  return {0, SharedArray(t.numScalars(), 0.0)};
}

namespace {

/// Why x is not an acceptable element of input `p` (of type t, named `name`); inlined into
/// checkInput's loop over an array's elements.
[[gnu::always_inline]] inline std::optional<std::string>
inputElementError(const Param& p, const Type& t, const std::string& name, double x) {
  if (!std::isfinite(x)) return "input '" + name + "' is not a finite number";
  switch (t.scalar) {
  case ScalarKind::Bool:
    if (x != 0 && x != 1) return "input '" + name + "' is not a bool";
    break;
  case ScalarKind::Int:
  case ScalarKind::Enum:
    if (x != std::floor(x) || std::fabs(x) > kMaxExactInt)
      return "input '" + name + "' = " + formatNumber(x) + " is not an integer";
    break;
  case ScalarKind::Real:
  case ScalarKind::Tuple:
    break;
  }
  if (p.range && (x < p.range->first || x > p.range->second))
    return "input '" + name + "' = " + formatNumber(x) + " is outside its range [" +
           formatNumber(p.range->first) + ", " + formatNumber(p.range->second) + "]";
  return std::nullopt;
}

} // namespace

std::optional<std::string> checkInput(const Function& f, size_t k, const Value& v) {
  const Param& p = f.inputs()[k];
  const Type& t = p.var->type();
  const std::string& name = p.var->name();
  if (t.isArray() && v.a.size() != t.numScalars())
    return "input '" + name + "' has " + std::to_string(v.a.size()) + " elements, expected " +
           std::to_string(t.numScalars());
  if (!t.isArray()) return inputElementError(p, t, name, v.s);
  // The elements in place (an array input is not copied: SMC checks it once per particle).
  for (double x : v.a)
    if (auto why = inputElementError(p, t, name, x)) return why;
  return std::nullopt;
}

namespace {

using json = nlohmann::json;

/// `j` as JSON text for a message. A string may hold bytes that are not UTF-8 (parseValue takes
/// a bare word from the command line as is): they are shown as U+FFFD, where the default dump()
/// would throw (found by tests/fuzz/fuzz_cli.cpp: findings/cli-crash-20f22ce3...).
std::string shown(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Expected<Value> fromJson(const json& j, const Type& t, const Context& ctx,
                         const std::string& what) {
  auto wrong = [&]() -> Expected<Value> {
    return Error(what + " should be " + ctx.typeName(t) + ", got " + shown(j));
  };
  if (t.isArray()) {
    if (!j.is_array()) return wrong();
    if (j.size() != size_t(t.length()))
      return Error(what + " should have " + std::to_string(t.length()) + " elements, got " +
                   std::to_string(j.size()));
    std::vector<double> flat;
    for (size_t k = 0; k < j.size(); ++k) {
      // "input 'ys'" -> "input 'ys[1]'"
      std::string sub = what;
      sub.insert(!sub.empty() && sub.back() == '\'' ? sub.size() - 1 : sub.size(),
                 "[" + std::to_string(k) + "]");
      auto e = fromJson(j[k], t.element(), ctx, sub);
      if (!e) return e;
      if (t.element().isArray())
        flat.insert(flat.end(), e->a.begin(), e->a.end());
      else
        flat.push_back(e->s);
    }
    return Value::array(std::move(flat));
  }
  switch (t.scalar) {
  case ScalarKind::Real:
    if (!j.is_number()) return wrong();
    return Value::scalar(j.get<double>());
  case ScalarKind::Int: {
    if (!j.is_number()) return wrong();
    double v = j.get<double>();
    if (v != std::floor(v) || std::fabs(v) > kMaxExactInt) return wrong();
    return Value::scalar(v);
  }
  case ScalarKind::Bool:
    if (!j.is_boolean()) return wrong();
    return Value::scalar(j.get<bool>() ? 1 : 0);
  case ScalarKind::Enum: {
    const EnumDecl& e = ctx.enums()[t.enumId];
    if (j.is_string()) {
      const std::string s = j.get<std::string>();
      for (size_t k = 0; k < e.constants.size(); ++k)
        if (e.constants[k] == s) return Value::scalar(double(k));
    }
    std::string list;
    for (size_t k = 0; k < e.constants.size(); ++k)
      list += (k ? ", " : "") + e.constants[k];
    return Error(what + " should be a constant of enum " + e.name + " (" + list + "), got " +
                 (j.is_string() ? j.get<std::string>() : shown(j)));
  }
  case ScalarKind::Tuple:
    break;
  }
  return wrong();
}

/// `[Red, Green]` (bare enum constants, as formatValue prints an enum array) as the JSON array
/// ["Red", "Green"]; nullopt when `text` is not a bracketed list of bare words.
std::optional<json> bareWordArray(std::string_view text) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  };
  text = trim(text);
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') return std::nullopt;
  text = trim(text.substr(1, text.size() - 2));
  json out = json::array();
  if (text.empty()) return out;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view word = trim(text.substr(0, comma));
    if (word.empty() || !(std::isalpha(static_cast<unsigned char>(word[0])) || word[0] == '_'))
      return std::nullopt;
    for (char ch : word)
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') return std::nullopt;
    out.push_back(std::string(word));
    if (comma == std::string_view::npos) return out;
    text = text.substr(comma + 1);
  }
}

} // namespace

Expected<Value> parseValue(std::string_view text, const Type& t, const Context& ctx,
                           const std::string& what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // An enum array as formatValue prints it, [Red, Green], reads back; otherwise a bare word is
    // an enum constant's name.
    std::optional<json> words;
    if (t.isArray() && t.scalar == ScalarKind::Enum) words = bareWordArray(text);
    j = words ? std::move(*words) : json(std::string(text));
  }
  return fromJson(j, t, ctx, what);
}

Expected<std::vector<std::optional<Value>>> bindJsonInputs(const Function& f, const Context& ctx,
                                                           std::string_view text,
                                                           const std::string& file) {
  Expected<json> parsed = spec::parseDataObject(text, file); // located syntax errors
  if (!parsed) return parsed.error();
  const json& j = *parsed;
  std::vector<std::optional<Value>> values(f.inputs().size());
  for (size_t k = 0; k < f.inputs().size(); ++k) {
    const Var* v = f.inputs()[k].var;
    if (auto it = j.find(v->name()); it != j.end()) {
      auto val = fromJson(*it, v->type(), ctx, "input '" + v->name() + "'");
      if (!val) return Error(SourceLoc{file, 0, 0}, val.error().message);
      values[k] = std::move(*val);
    }
  }
  return values;
}

std::string formatValue(const Value& v, const Type& t, const Context& ctx) {
  auto scalar = [&](double x) -> std::string {
    switch (t.scalar) {
    case ScalarKind::Bool:
      return x != 0 ? "true" : "false";
    case ScalarKind::Int:
      return formatNumber(x);
    case ScalarKind::Enum: {
      const auto& cs = ctx.enums()[t.enumId].constants;
      return x >= 0 && size_t(x) < cs.size() ? cs[size_t(x)] : formatNumber(x);
    }
    case ScalarKind::Real:
      return formatReal(x);
    case ScalarKind::Tuple:
      break;
    }
    return "?";
  };
  if (!t.isArray()) return scalar(v.s);
  // Nested brackets for multi-dimensional arrays.
  std::string out;
  size_t pos = 0;
  std::function<void(size_t)> rec = [&](size_t d) {
    out += "[";
    for (int k = 0; k < t.dims[d]; ++k) {
      if (k) out += ", ";
      if (d + 1 < t.dims.size())
        rec(d + 1);
      else
        out += pos < v.a.size() ? scalar(v.a[pos++]) : "?";
    }
    out += "]";
  };
  rec(0);
  return out;
}

Expected<RunResult> run(const Function& f, std::span<const Value> inputs, Rng& rng,
                        const RunOptions& options) {
  if (inputs.size() != f.inputs().size())
    return Error(f.loc(), "'" + f.name() + "' takes " + std::to_string(f.inputs().size()) +
                              " inputs, given " + std::to_string(inputs.size()));
  for (size_t k = 0; k < inputs.size(); ++k)
    if (auto why = checkInput(f, k, inputs[k])) return Error(f.loc(), *why);
  RunResult r;
  Exec x(&rng, options, r.trace);
  if (options.stopAfterObserves == 0) {
    r.stopped = true;
    return r;
  }
  if (!x.callFunction(f, inputs, "", r.outputs)) {
    if (!x.stopped_) return located(x, f.loc());
    r.stopped = true;
    r.outputs.clear();
    return r;
  }
  // callFunction moved the outputs out of the frame; put them back for frame readers.
  r.frame = std::move(x.lastFrame_);
  for (size_t k = 0; k < f.outputs().size(); ++k)
    r.frame[f.outputs()[k]->slot()] = r.outputs[k];
  return r;
}

Expected<RunResult> resume(const Function& f, std::span<Value> inputs, Suspension& at, Rng& rng,
                           const RunOptions& options) {
  if (at.finished) return Error(f.loc(), "internal: resuming a run of '" + f.name() + "' that ended");
  std::vector<Value> frame;
  if (!at.started) {
    if (inputs.size() != f.inputs().size())
      return Error(f.loc(), "'" + f.name() + "' takes " + std::to_string(f.inputs().size()) +
                                " inputs, given " + std::to_string(inputs.size()));
    for (size_t k = 0; k < inputs.size(); ++k)
      if (auto why = checkInput(f, k, inputs[k])) return Error(f.loc(), *why);
    frame.resize(size_t(f.numSlots()));
    for (const Var* v : f.vars())
      if (v->type().isArray()) frame[v->slot()] = zeroValue(v->type());
    at.started = true;
  } else {
    frame = std::move(at.frames.back());
    at.frames.pop_back();
  }
  for (size_t k = 0; k < inputs.size(); ++k)
    frame[f.inputs()[k].var->slot()] = std::move(inputs[k]);
  RunResult r;
  Exec x(&rng, options, r.trace);
  x.susp_ = &at;
  x.resuming_ = !at.positions.empty();
  // stopAfterObserves == 0: nothing runs and the suspension stays where it was.
  if (options.stopAfterObserves == 0) x.stopped_ = true;
  const bool ok = !x.stopped_ && x.block(f.body(), frame);
  for (size_t k = 0; k < inputs.size(); ++k)
    inputs[k] = std::move(frame[f.inputs()[k].var->slot()]);
  if (!ok) {
    if (!x.stopped_) {
      at = Suspension{};
      return located(x, f.loc());
    }
    at.frames.push_back(std::move(frame));
    r.stopped = true;
    return r;
  }
  at.finished = true;
  for (const Var* o : f.outputs())
    r.outputs.push_back(frame[o->slot()]);
  for (size_t k = 0; k < inputs.size(); ++k)
    frame[f.inputs()[k].var->slot()] = inputs[k];
  r.frame = std::move(frame);
  return r;
}

Expected<Value> evaluate(Expr e, std::span<const Value> frame, const SourceLoc& loc) {
  Trace t;
  RunOptions opt;
  Exec x(nullptr, opt, t);
  Value v;
  if (!x.eval(e, frame, v)) return located(x, loc);
  return v;
}

} // namespace chassis::symbolic
