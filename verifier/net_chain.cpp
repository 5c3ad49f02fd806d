// The network chain of an IR network function: an abstract evaluation of its body where every
// value is a vector of neurons (see net_chain.h for what is read).
#include "verifier/net_chain.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace chassis::verifier {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// A neuron: unit `unit` of layer `level` (0: the inputs), after its ReLU when `relu`.
struct Ref {
  int level = 0;
  int unit = 0;
  bool relu = false;
};

/// The abstract value of an expression: its neurons, a vector or one scalar.
struct AVal {
  std::vector<Ref> el;
  bool vec = false;
};

/// A unit of the input layer: element `elem` (-1: scalar) of input `param`, clamped to [lo, hi].
struct InUnit {
  int param = 0, elem = -1;
  double lo = -kInf, hi = kInf;
  bool operator<(const InUnit& o) const {
    return std::tie(param, elem, lo, hi) < std::tie(o.param, o.elem, o.lo, o.hi);
  }
};

/// A neuron of one layer read as a sum of units with coefficients +-1 (a raw value of a layer
/// that has its ReLU is relu(u) - relu(-u), exactly).
using Terms = std::vector<std::pair<int, double>>;

/// The rows an Affine node gave layer `level`, and what its columns read.
struct Instance {
  const ir::Affine* node = nullptr;
  int level = 0, offset = 0;
  std::vector<Ref> in;
  std::vector<Terms> cols; // in[c] as units of layer level - 1 (set when the layer is built)
};

struct Level {
  // The rows the body gave it: per row, the input unit it is the identity of (layer 1 only: a
  // ReLU of an input), or -1 for a row of an Affine node (built from its Instance).
  std::vector<int> src;
  std::map<int, int> reluOfInput; // layer 1: input unit -> its identity row
  bool relu = false;              // some neuron of it is read after its ReLU
  // Built at the end: src's rows, then the rows that carry or negate neurons.
  std::vector<Terms> rows; // sparse: (unit of the layer below, weight)
  std::vector<double> bias;
  std::map<int, int> neg; // unit -> the row computing its negation
};

/// a + b is exact in float64 (Knuth's two-sum error is zero).
bool exactSum(double a, double b, double& s) {
  s = a + b;
  if (!std::isfinite(s)) return false;
  double bb = s - a;
  double err = (a - (s - bb)) + (b - bb);
  return err == 0;
}

std::string describe(ir::Expr e) {
  switch (e->kind()) {
  case ir::ExprKind::Const:
    return e->type().is(ir::ScalarKind::Real)
               ? "the constant " + ir::formatReal(e->as<ir::Const>()->realValue())
               : "a constant";
  case ir::ExprKind::Var:
    return "'" + e->as<ir::Var>()->name() + "'";
  case ir::ExprKind::Unary:
    return "'" + std::string(ir::spelling(e->as<ir::Unary>()->op())) + "(...)'";
  case ir::ExprKind::Binary: {
    ir::BinOp op = e->as<ir::Binary>()->op();
    return ir::isInfix(op) ? "'... " + std::string(ir::spelling(op)) + " ...'"
                           : "'" + std::string(ir::spelling(op)) + "(..., ...)'";
  }
  case ir::ExprKind::Select:
    return "a select (c ? a : b)";
  case ir::ExprKind::ArrayLit:
    return "an array literal";
  case ir::ExprKind::Index:
    return "an element a[i]";
  case ir::ExprKind::Update:
    return "an array update";
  case ir::ExprKind::Call:
  case ir::ExprKind::CallResult:
    return "a call";
  case ir::ExprKind::Affine:
    return "an affine layer";
  case ir::ExprKind::VecRelu:
    return "a ReLU layer";
  }
  return "a node";
}

class ChainReader : public ir::ExprVisitor<Expected<AVal>> {
public:
  explicit ChainReader(const ir::Function& f) : f_(f), loc_(f.loc()) { levels_.emplace_back(); }

  Expected<NetChain> read() {
    if (f_.kind() != ir::FunctionKind::Network)
      return fail("'" + f_.name() + "' is not a network function");
    for (ir::Stmt s : f_.body()) {
      loc_ = s->loc().line > 0 || !s->loc().file.empty() ? s->loc() : f_.loc();
      if (auto* let = s->as<ir::LetStmt>()) {
        auto v = eval(let->value);
        if (!v) return v.error();
        env_[let->var] = std::move(*v);
      } else if (auto* as = s->as<ir::AssignStmt>()) {
        auto v = eval(as->value);
        if (!v) return v.error();
        // A variable rebound (or an input overwritten): the nodes that read it change value.
        if (env_.count(as->var) || as->var->role() == ir::VarRole::Input) memo_.clear();
        env_[as->var] = std::move(*v);
      } else {
        std::string kind(ir::kindName(s->kind()));
        std::transform(kind.begin(), kind.end(), kind.begin(),
                       [](unsigned char ch) { return char(std::tolower(ch)); });
        return fail("a " + kind + " statement is not part of a network's layers");
      }
    }
    loc_ = f_.loc();
    return finish();
  }

protected:
  Expected<AVal> visitConst(const ir::Const& n) override {
    return fail(describe(&n) + " is not a neuron (a layer's input is made of neurons only)");
  }
  Expected<AVal> visitVar(const ir::Var& n) override {
    if (auto it = env_.find(&n); it != env_.end()) return it->second;
    if (n.role() != ir::VarRole::Input) return fail("'" + n.name() + "' is read before it is set");
    int k = -1;
    for (size_t i = 0; i < f_.inputs().size(); ++i)
      if (f_.inputs()[i].var == &n) k = int(i);
    const ir::Type& t = n.type();
    AVal r;
    if (t.is(ir::ScalarKind::Real)) {
      r.el.push_back({0, inputUnit({k, -1, -kInf, kInf}), false});
    } else if (t.isNumericVector() && t.scalar == ir::ScalarKind::Real) {
      r.vec = true;
      for (int i = 0; i < t.length(); ++i)
        r.el.push_back({0, inputUnit({k, i, -kInf, kInf}), false});
    } else {
      return fail("input '" + n.name() + "' is not real or real[N]");
    }
    return r;
  }
  Expected<AVal> visitUnary(const ir::Unary& n) override {
    if (n.op() != ir::UnOp::Relu) return notLayer(n);
    auto a = scalar(n.arg());
    if (!a) return a.error();
    auto r = relu(*a);
    if (!r) return r.error();
    return AVal{{*r}, false};
  }
  Expected<AVal> visitBinary(const ir::Binary& n) override {
    if (n.op() != ir::BinOp::Max && n.op() != ir::BinOp::Min) return notLayer(n);
    auto* cl = n.lhs()->as<ir::Const>();
    auto* cr = n.rhs()->as<ir::Const>();
    const ir::Const* c = cr ? cr : cl;
    ir::Expr other = cr ? n.lhs() : n.rhs();
    if (!c || !c->type().is(ir::ScalarKind::Real) || other->is<ir::Const>())
      return fail(describe(&n) + " of two values is not a layer operation (only max/min with a "
                                 "real constant: a ReLU or an input clamp)");
    auto a = scalar(other);
    if (!a) return a.error();
    const double v = c->realValue();
    if (a->level == 0) {
      // An input clamp: max(clamp(x, l, h), c) = clamp(x, max(l, c), max(h, c)), and the same
      // with min: exact whatever c.
      InUnit u = ins_[size_t(a->unit)];
      if (n.op() == ir::BinOp::Max) {
        u.lo = std::max(u.lo, v);
        u.hi = std::max(u.hi, v);
      } else {
        u.lo = std::min(u.lo, v);
        u.hi = std::min(u.hi, v);
      }
      return AVal{{{0, inputUnit(u), false}}, false};
    }
    if (n.op() == ir::BinOp::Max && v == 0) {
      auto r = relu(*a);
      if (!r) return r.error();
      return AVal{{*r}, false};
    }
    return fail(describe(&n) + " with " + describe(c) + " of a hidden neuron is not a layer " +
                "operation (max(.., 0) is a ReLU; a clamp applies to inputs only)");
  }
  Expected<AVal> visitSelect(const ir::Select& n) override { return notLayer(n); }
  Expected<AVal> visitArrayLit(const ir::ArrayLit& n) override {
    AVal r;
    r.vec = true;
    for (ir::Expr e : n.elements()) {
      auto a = scalar(e);
      if (!a) return a.error();
      r.el.push_back(*a);
    }
    return r;
  }
  Expected<AVal> visitIndex(const ir::Index& n) override {
    auto* c = n.index()->as<ir::Const>();
    if (!c || !n.index()->type().is(ir::ScalarKind::Int))
      return fail("an element at a computed index is not a layer operation (a constant index "
                  "only)");
    auto a = eval(n.array());
    if (!a) return a;
    if (!a->vec) return fail("an element of a scalar");
    if (c->intValue() < 0 || c->intValue() >= int64_t(a->el.size()))
      return fail("index " + std::to_string(c->intValue()) + " is outside [0, " +
                  std::to_string(a->el.size()) + ")");
    return AVal{{a->el[size_t(c->intValue())]}, false};
  }
  Expected<AVal> visitUpdate(const ir::Update& n) override { return notLayer(n); }
  Expected<AVal> visitCall(const ir::Call& n) override {
    return fail("a call of '" + n.callee().name() + "' inside a network is not a layer");
  }
  Expected<AVal> visitCallResult(const ir::CallResult& n) override {
    return fail("a call of '" + n.call().callee().name() + "' inside a network is not a layer");
  }
  Expected<AVal> visitAffine(const ir::Affine& n) override {
    auto x = eval(n.input());
    if (!x) return x;
    const ir::DenseLayer& L = n.layer();
    if (!x->vec || x->el.empty() || int(x->el.size()) != L.cols)
      return fail("an affine layer of " + std::to_string(L.cols) + " columns reads " +
                  std::to_string(x->el.size()) + " values");
    // Rows of the layer above the highest neuron it reads; the lower ones are carried up to it
    // when the net is built.
    int k = 0;
    for (const Ref& r : x->el)
      k = std::max(k, r.level);
    const int t = k + 1;
    if (t == int(levels_.size())) levels_.emplace_back();
    Level& lv = levels_[size_t(t)];
    Instance in;
    in.node = &n;
    in.level = t;
    in.offset = int(lv.src.size());
    in.in = x->el;
    AVal out;
    out.vec = true;
    for (int r = 0; r < L.rows; ++r) {
      lv.src.push_back(-1);
      out.el.push_back({t, in.offset + r, false});
    }
    insts_.push_back(std::move(in));
    return out;
  }
  Expected<AVal> visitVecRelu(const ir::VecRelu& n) override {
    auto x = eval(n.input());
    if (!x) return x;
    for (Ref& r : x->el) {
      auto y = relu(r);
      if (!y) return y.error();
      r = *y;
    }
    return x;
  }

private:
  Error fail(const std::string& what) const {
    return Error(loc_, "network '" + f_.name() + "' is not a chain of layers: " + what);
  }
  Error notLayer(const ir::ExprNode& n) const {
    return fail(describe(&n) + " is not a layer operation");
  }

  Expected<AVal> eval(ir::Expr e) {
    if (auto it = memo_.find(e); it != memo_.end()) return it->second;
    auto r = visit(e);
    if (r) memo_.emplace(e, *r);
    return r;
  }
  Expected<Ref> scalar(ir::Expr e) {
    auto a = eval(e);
    if (!a) return a.error();
    if (a->vec || a->el.size() != 1) return fail(describe(e) + " is not a scalar");
    return a->el.front();
  }

  int inputUnit(const InUnit& u) {
    auto [it, fresh] = inputIds_.emplace(u, int(ins_.size()));
    if (fresh) ins_.push_back(u);
    return it->second;
  }

  Expected<Ref> relu(Ref r) {
    if (r.level > 0) return Ref{r.level, r.unit, true};
    // A ReLU of an input: an identity row of layer 1, read after its ReLU.
    if (levels_.size() == 1) levels_.emplace_back();
    Level& l1 = levels_[1];
    auto [it, fresh] = l1.reluOfInput.emplace(r.unit, int(l1.src.size()));
    if (fresh) l1.src.push_back(r.unit);
    return Ref{1, it->second, true};
  }

  // ---- Building the net -------------------------------------------------------------------

  /// A new row of layer j: weights `w` over the units of layer j - 1, bias `b`.
  int addRow(int j, Terms w, double b) {
    Level& lv = levels_[size_t(j)];
    lv.rows.push_back(std::move(w));
    lv.bias.push_back(b);
    return int(lv.rows.size()) - 1;
  }
  /// The row of layer k computing minus unit u's pre-activation (exact: a sign flip).
  int negRow(int k, int u) {
    Level& lv = levels_[size_t(k)];
    if (auto it = lv.neg.find(u); it != lv.neg.end()) return it->second;
    Terms w = lv.rows[size_t(u)];
    for (auto& uw : w)
      uw.second = -uw.second;
    int r = addRow(k, std::move(w), -lv.bias[size_t(u)]);
    levels_[size_t(k)].neg.emplace(u, r);
    return r;
  }
  /// Neuron `ref` as units of layer `target` (>= its own), read in that layer's mode: a raw read
  /// of a layer with its ReLU is relu(u) - relu(-u); a lower layer's neuron is carried up by one
  /// row per layer (two when that layer has its ReLU). Every weight is +-1.
  Terms termsAt(const Ref& ref, int target) {
    auto key = std::make_tuple(ref.level, ref.unit, ref.relu, target);
    if (auto it = carried_.find(key); it != carried_.end()) return it->second;
    Terms cur;
    if (ref.relu || !levels_[size_t(ref.level)].relu)
      cur = {{ref.unit, 1.0}};
    else
      cur = {{ref.unit, 1.0}, {negRow(ref.level, ref.unit), -1.0}};
    for (int j = ref.level + 1; j <= target; ++j) {
      int pr = addRow(j, cur, 0.0);
      if (levels_[size_t(j)].relu)
        cur = {{pr, 1.0}, {negRow(j, pr), -1.0}};
      else
        cur = {{pr, 1.0}};
    }
    carried_.emplace(key, cur);
    return cur;
  }
  /// The rows of instance `ix` (its columns read as units of the layer below).
  Status buildInstance(int ix) {
    Instance& in = insts_[size_t(ix)];
    const ir::DenseLayer& L = in.node->layer();
    for (const Ref& r : in.in)
      in.cols.push_back(termsAt(r, in.level - 1));
    // One slot per unit read; a unit read twice gets the exact sum of its weights.
    std::unordered_map<int, int> slotOf;
    std::vector<int> unitOf;
    std::vector<std::vector<std::pair<size_t, double>>> colSlots(in.cols.size());
    for (size_t c = 0; c < in.cols.size(); ++c)
      for (const auto& uw : in.cols[c]) {
        auto it = slotOf.emplace(uw.first, int(unitOf.size())).first;
        if (size_t(it->second) == unitOf.size()) unitOf.push_back(uw.first);
        colSlots[c].push_back({size_t(it->second), uw.second});
      }
    Level& lv = levels_[size_t(in.level)];
    std::vector<double> w(unitOf.size());
    std::vector<bool> set(unitOf.size());
    for (int r = 0; r < L.rows; ++r) {
      std::fill(set.begin(), set.end(), false);
      for (int c = 0; c < L.cols; ++c)
        for (const auto& [sl, coef] : colSlots[size_t(c)]) {
          const double v = coef * L.w(r, c); // coef is +-1: exact
          if (!set[sl]) {
            w[sl] = v;
            set[sl] = true;
          } else if (double sum; exactSum(w[sl], v, sum)) {
            w[sl] = sum;
          } else {
            return fail("an affine layer reads a neuron twice (directly or as relu(u) - "
                        "relu(-u)), and its weights in row " +
                        std::to_string(r) + " do not add exactly in float64");
          }
        }
      Terms row;
      row.reserve(unitOf.size());
      for (size_t sl = 0; sl < unitOf.size(); ++sl)
        row.push_back({unitOf[sl], w[sl]});
      lv.rows[size_t(in.offset + r)] = std::move(row);
      lv.bias[size_t(in.offset + r)] = L.b(r);
    }
    return Status::ok();
  }

  Expected<NetChain> finish() {
    std::vector<const AVal*> outs;
    for (const ir::Var* o : f_.outputs()) {
      auto it = env_.find(o);
      if (it == env_.end()) return fail("output '" + o->name() + "' is never set");
      outs.push_back(&it->second);
    }
    int top = int(levels_.size()) - 1;
    if (top == 0) return fail("no layer: the outputs are inputs");
    // A layer has its ReLU when one of its neurons is read after it.
    for (const Instance& in : insts_)
      for (const Ref& r : in.in)
        if (r.relu) levels_[size_t(r.level)].relu = true;
    for (const AVal* o : outs)
      for (const Ref& r : o->el)
        if (r.relu) levels_[size_t(r.level)].relu = true;
    // The rows, layer by layer (building layer t may add rows to the layers below it).
    for (int t = 1; t <= top; ++t) {
      Level& lv = levels_[size_t(t)];
      lv.rows.resize(lv.src.size());
      lv.bias.assign(lv.src.size(), 0.0);
      for (size_t i = 0; i < lv.src.size(); ++i)
        if (lv.src[i] >= 0) lv.rows[i] = {{lv.src[i], 1.0}};
      for (size_t ix = 0; ix < insts_.size(); ++ix)
        if (insts_[ix].level == t)
          if (Status st = buildInstance(int(ix)); !st) return st.error();
    }
    // The outputs: units of the last layer, or else rows of one more layer without ReLU.
    std::vector<std::vector<Terms>> outTerms;
    bool single = true;
    for (const AVal* o : outs) {
      std::vector<Terms> ts;
      for (const Ref& r : o->el) {
        ts.push_back(termsAt(r, top));
        single = single && ts.back().size() == 1 && ts.back()[0].second == 1.0;
      }
      outTerms.push_back(std::move(ts));
    }
    if (!single) {
      levels_.emplace_back();
      ++top;
      for (auto& ts : outTerms)
        for (Terms& t : ts)
          t = {{addRow(top, t, 0.0), 1.0}};
    }

    NetChain c;
    // The network's inputs: the input units layer 1 reads (a clamp's intermediate forms and the
    // elements no layer reads are not), in (param, element) order: a permutation of layer 1's
    // columns.
    std::vector<bool> used(ins_.size(), false);
    for (const Terms& row : levels_[1].rows)
      for (const auto& uw : row)
        used[size_t(uw.first)] = true;
    std::vector<int> order;
    for (size_t u = 0; u < ins_.size(); ++u)
      if (used[u]) order.push_back(int(u));
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return ins_[size_t(a)] < ins_[size_t(b)]; });
    std::vector<int> perm(ins_.size(), -1);
    for (size_t j = 0; j < order.size(); ++j) {
      perm[size_t(order[j])] = int(j);
      const InUnit& u = ins_[size_t(order[j])];
      c.inParam.push_back(u.param);
      c.inElem.push_back(u.elem);
      c.clampLo.push_back(u.lo);
      c.clampHi.push_back(u.hi);
    }
    c.net.inputSize = int(order.size());
    for (int t = 1; t <= top; ++t) {
      const Level& lv = levels_[size_t(t)];
      const int rows = int(lv.rows.size());
      const int cols = t == 1 ? int(order.size()) : int(levels_[size_t(t - 1)].rows.size());
      auto col = [&](int u) { return t == 1 ? perm[size_t(u)] : u; };
      neural::AffineLayer al;
      al.W = Eigen::MatrixXd::Zero(rows, cols);
      al.b.resize(rows);
      for (int r = 0; r < rows; ++r) {
        al.b[r] = lv.bias[size_t(r)];
        for (const auto& uw : lv.rows[size_t(r)])
          al.W(r, col(uw.first)) = uw.second;
      }
      al.relu = lv.relu;
      c.net.layers.push_back(std::move(al));
      // The Affine node whose value is this layer's pre-activation, if one is: the layer's
      // only rows, reading every unit of the layer below once, in order.
      const ir::Affine* exact = nullptr;
      const Instance* only = nullptr;
      int count = 0;
      for (const Instance& in : insts_)
        if (in.level == t) {
          only = &in;
          ++count;
        }
      if (count == 1 && only->offset == 0 && only->node->layer().rows == rows &&
          int(only->cols.size()) == cols) {
        bool inOrder = true;
        for (int j = 0; j < cols && inOrder; ++j) {
          const Terms& tj = only->cols[size_t(j)];
          inOrder = tj.size() == 1 && tj[0].second == 1.0 && col(tj[0].first) == j;
        }
        if (inOrder) exact = only->node;
      }
      c.layers.push_back(exact);
    }
    for (const auto& ts : outTerms) {
      std::vector<int> idx;
      for (const Terms& t : ts)
        idx.push_back(t[0].first);
      c.outIndex.push_back(std::move(idx));
    }
    return c;
  }

  const ir::Function& f_;
  SourceLoc loc_;
  std::vector<Level> levels_; // levels_[0]: the inputs (ins_)
  std::vector<Instance> insts_;
  std::map<std::tuple<int, int, bool, int>, Terms> carried_;
  std::vector<InUnit> ins_;   // every input unit met (the network's inputs: those layer 1 reads)
  std::map<InUnit, int> inputIds_;
  std::unordered_map<const ir::Var*, AVal> env_;
  std::unordered_map<ir::Expr, AVal> memo_;
};

} // namespace

Expected<NetChain> extractChain(const ir::Function& f) {
  ChainReader reader(f);
  return reader.read();
}

} // namespace chassis::verifier
