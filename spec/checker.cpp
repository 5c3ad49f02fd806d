// The .chs type checker (spec/checker.h). Passes, in order:
//   1. global names: enums, modules, networks, properties, tasks, unique across all files;
//   2. enums: constants numbered; the bare-constant index;
//   3. signatures: parameter types, input ranges (constant-folded), network parameter rules;
//   4. module bodies: scopes, name resolution, typing with explicit int->real Promote nodes, and
//      the output assignment rule (a small dataflow over No / Yes / Maybe per output);
//   5. properties: quantifiers, always / P / E over a module's variables;
//   6. the call graph: recursion rejected, topological order; which modules are random;
//   7. tasks: the inputs module and its box, the label, the network clause, the properties.
// Every error is reported once at the token to look at; an expression that failed gets the Error
// type, which every later check accepts silently, so one mistake gives one message.
#include "spec/checker.h"
#include "spec/data_sizes.h"

#include "spec/ast_printer.h"
#include "spec/callgraph.h"
#include "spec/parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <limits>
#include <set>
#include <unordered_map>

namespace chassis::spec {

namespace {

// ---- constant folding (ranges, loop bounds, constant indices) ----------------------------------

struct ConstVal {
  bool isInt = true;
  int64_t i = 0;
  double r = 0;
  double real() const { return isInt ? static_cast<double>(i) : r; }
};

std::string formatNumber(const ConstVal& v) {
  if (v.isInt) return std::to_string(v.i);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v.r);
  return buf;
}

// The value of a name in a constant expression (an int input fixed by the run's data), or
// nullopt with `why`.
using NameValue = std::function<std::optional<int64_t>(const Expr& name, std::string& why)>;

// Literals, unary minus and + - * / % on them, and names that `names` knows (loop bounds may use
// int inputs fixed by the data). `/` is real division (as in the language).
// nullopt (with `why`) if the expression is not constant or the arithmetic fails.
std::optional<ConstVal> constEval(const Expr& e, std::string& why,
                                  const NameValue* names = nullptr) {
  switch (e.kind) {
  case ExprKind::Name:
  case ExprKind::VarRef:
    if (names) {
      auto v = (*names)(e, why);
      if (!v) return std::nullopt;
      return ConstVal{true, *v, 0};
    }
    break;
  case ExprKind::IntLit:
    return ConstVal{true, e.intValue, 0};
  case ExprKind::RealLit:
    return ConstVal{false, 0, e.realValue};
  case ExprKind::Promote: { // an int constant used as a real (checked trees)
    auto a = constEval(*e.args[0], why, names);
    if (!a) return std::nullopt;
    return ConstVal{false, 0, a->real()};
  }
  case ExprKind::Unary: {
    if (e.unaryOp != UnaryOp::Neg) break;
    auto a = constEval(*e.args[0], why, names);
    if (!a) return std::nullopt;
    if (a->isInt) {
      if (a->i == INT64_MIN) {
        why = "integer overflow";
        return std::nullopt;
      }
      return ConstVal{true, -a->i, 0};
    }
    return ConstVal{false, 0, -a->r};
  }
  case ExprKind::Binary: {
    BinaryOp op = e.binaryOp;
    if (op != BinaryOp::Add && op != BinaryOp::Sub && op != BinaryOp::Mul && op != BinaryOp::Div &&
        op != BinaryOp::Mod)
      break;
    auto a = constEval(*e.args[0], why, names);
    if (!a) return std::nullopt;
    auto b = constEval(*e.args[1], why, names);
    if (!b) return std::nullopt;
    if (a->isInt && b->isInt && op != BinaryOp::Div) {
      int64_t r = 0;
      bool ovf = false;
      switch (op) {
      case BinaryOp::Add:
        ovf = __builtin_add_overflow(a->i, b->i, &r);
        break;
      case BinaryOp::Sub:
        ovf = __builtin_sub_overflow(a->i, b->i, &r);
        break;
      case BinaryOp::Mul:
        ovf = __builtin_mul_overflow(a->i, b->i, &r);
        break;
      default:
        if (b->i == 0) {
          why = "division by zero";
          return std::nullopt;
        }
        if (a->i == INT64_MIN && b->i == -1) {
          ovf = true;
          break;
        }
        r = a->i % b->i;
      }
      if (ovf) {
        why = "integer overflow";
        return std::nullopt;
      }
      return ConstVal{true, r, 0};
    }
    if (op == BinaryOp::Mod) {
      why = "'%' needs integers";
      return std::nullopt;
    }
    double x = a->real(), y = b->real(), r = 0;
    switch (op) {
    case BinaryOp::Add:
      r = x + y;
      break;
    case BinaryOp::Sub:
      r = x - y;
      break;
    case BinaryOp::Mul:
      r = x * y;
      break;
    default:
      if (y == 0) {
        why = "division by zero";
        return std::nullopt;
      }
      r = x / y;
    }
    if (!std::isfinite(r)) {
      why = "overflow";
      return std::nullopt;
    }
    return ConstVal{false, 0, r};
  }
  default:
    break;
  }
  why = "not a constant";
  return std::nullopt;
}

const char* kindWord(VarKind k) {
  switch (k) {
  case VarKind::Input:
    return "input";
  case VarKind::Output:
    return "output";
  case VarKind::Let:
    return "let binding";
  case VarKind::Local:
    return "variable";
  case VarKind::LoopIndex:
    return "loop index";
  case VarKind::Random:
    return "random choice";
  case VarKind::Quantified:
    return "quantified variable";
  }
  return "variable";
}

const char* callableWord(const CallableDecl* c) {
  return c->kind == DeclKind::Network ? "network" : "module";
}

Type distResultType(DistKind k) {
  switch (signature(k).result) {
  case DistResultType::Bool:
    return Type::boolean();
  case DistResultType::Int:
    return Type::integer();
  case DistResultType::Real:
    return Type::real();
  }
  return Type::error();
}

enum class AState : uint8_t { No, Yes, Maybe };

class Checker {
public:
  Checker(Program& p, DiagnosticEngine& d, const DataSizes* sizes)
      : prog_(p), diags_(d), sizes_(sizes) {}

  void run() {
    collectGlobals();
    for (EnumDecl* e : enums_)
      checkEnum(*e);
    for (CallableDecl* c : callables_)
      checkSignature(*c);
    for (CallableDecl* c : callables_)
      if (c->kind == DeclKind::Module) checkModule(static_cast<ModuleDecl&>(*c));
    for (CallableDecl* c : callables_)
      fixDataSizes(*c);
    for (PropertyDecl* p : props_)
      checkProperty(*p);

    std::vector<const CallableDecl*> nodes(callables_.begin(), callables_.end());
    CallGraph g(nodes, edges_);
    bool acyclic = g.checkAcyclic(diags_);
    prog_.order = acyclic ? g.topologicalOrder() : nodes;
    classifyModules();
    if (acyclic) checkRandomCallsInProperties();
    for (TaskDecl* t : tasks_)
      checkTask(*t);
  }

  // A module is random if it draws, observes, conditions or weighs, or calls a random module
  // (as the IR defines it); weighted if it observes, conditions or factors, or calls a weighted
  // module. Fills random_ and weighted_ (a fixpoint over the call edges, so cycles are harmless).
  void classifyModules() {
    for (const CallableDecl* c : callables_) {
      if (c->kind != DeclKind::Module) continue;
      bool draws = false, weighs = false;
      std::vector<const Stmt*> stack;
      for (auto& st : static_cast<const ModuleDecl*>(c)->body)
        stack.push_back(st.get());
      while (!stack.empty()) {
        const Stmt* st = stack.back();
        stack.pop_back();
        draws |= st->kind == StmtKind::Sample;
        weighs |= st->kind == StmtKind::Observe || st->kind == StmtKind::Condition ||
                  st->kind == StmtKind::Factor;
        for (auto& b : st->body)
          stack.push_back(b.get());
        for (auto& b : st->elseBody)
          stack.push_back(b.get());
      }
      if (draws || weighs) random_.insert(c);
      if (weighs) weighted_.insert(c);
    }
    for (bool changed = true; changed;) {
      changed = false;
      for (const CallEdge& e : edges_) {
        if (random_.count(e.callee)) changed |= random_.insert(e.caller).second;
        if (weighted_.count(e.callee)) changed |= weighted_.insert(e.caller).second;
      }
    }
  }

  // Properties may run random modules only through always / P / E, and not inside their
  // arguments either (the back ends' rule, with the lowering's messages).
  void checkRandomCallsInProperties() {
    const std::set<const CallableDecl*>& random = random_;
    for (PropertyDecl* p : props_) {
      if (badProps_.count(p)) continue;
      // (expression, inside always/P/E)
      std::vector<std::pair<const Expr*, bool>> stack{{p->body.get(), false}};
      while (!stack.empty()) {
        auto [x, inQuery] = stack.back();
        stack.pop_back();
        if (x->kind == ExprKind::Call && x->callee && random.count(x->callee)) {
          if (inQuery)
            error(p->loc, "property '" + p->name +
                              "': a call of a random module inside always/P/E is not supported");
          else
            error(x->loc, "property '" + p->name + "' calls random module '" + x->callee->name +
                              "' inside forall/exists; use always[" + x->callee->name + "], P[" +
                              x->callee->name + "] or E[" + x->callee->name + "]");
          break;
        }
        bool q = inQuery || x->kind == ExprKind::Always || x->kind == ExprKind::Prob ||
                 x->kind == ExprKind::Expect;
        for (auto it = x->args.rbegin(); it != x->args.rend(); ++it)
          if (*it) stack.push_back({it->get(), q});
      }
    }
  }

private:
  void error(const SourceLoc& l, std::string msg) { diags_.error(l, std::move(msg)); }

  // ---- pass 1: global names ----------------------------------------------------------------
  void collectGlobals() {
    for (auto& f : prog_.files)
      for (auto& d : f->decls) {
        if (d->kind == DeclKind::Import) continue;
        if (d->kind != DeclKind::Property) {
          if (builtinFromName(d->name)) {
            error(d->loc, "'" + d->name + "' is the name of a builtin function");
            continue;
          }
          if (distKindFromName(d->name)) {
            error(d->loc, "'" + d->name + "' is the name of a distribution");
            continue;
          }
        }
        auto [it, fresh] = globals_.emplace(d->name, d.get());
        if (!fresh) {
          error(d->loc, "redefinition of '" + d->name + "' (previously declared at " +
                            where(it->second->loc) + ")");
          continue;
        }
        switch (d->kind) {
        case DeclKind::Enum:
          enums_.push_back(static_cast<EnumDecl*>(d.get()));
          prog_.enums.push_back(enums_.back());
          break;
        case DeclKind::Module:
          callables_.push_back(static_cast<CallableDecl*>(d.get()));
          prog_.modules.push_back(static_cast<ModuleDecl*>(d.get()));
          break;
        case DeclKind::Network: {
          auto* n = static_cast<NetworkDecl*>(d.get());
          callables_.push_back(n);
          prog_.networks.push_back(n);
          namespace fs = std::filesystem;
          n->resolvedPath =
              (fs::path(n->loc.file).parent_path() / n->path).lexically_normal().string();
          break;
        }
        case DeclKind::Property:
          props_.push_back(static_cast<PropertyDecl*>(d.get()));
          prog_.properties.push_back(props_.back());
          break;
        case DeclKind::Task: {
          auto* t = static_cast<TaskDecl*>(d.get());
          tasks_.push_back(t);
          prog_.tasks.push_back(t);
          if (t->netSource == TaskDecl::NetSource::Onnx ||
              t->netSource == TaskDecl::NetSource::Nnet) {
            namespace fs = std::filesystem;
            t->resolvedNetPath =
                (fs::path(t->loc.file).parent_path() / t->netPath).lexically_normal().string();
          }
          break;
        }
        case DeclKind::Import:
          break;
        }
      }
  }

  std::string where(const SourceLoc& l) const {
    return l.file + ":" + std::to_string(l.line) + ":" + std::to_string(l.col);
  }

  // ---- pass 2: enums -----------------------------------------------------------------------
  void checkEnum(EnumDecl& e) {
    std::set<std::string> seen;
    for (size_t i = 0; i < e.constants.size(); ++i) {
      EnumConstant& c = e.constants[i];
      c.value = static_cast<int64_t>(i);
      if (!seen.insert(c.name).second) {
        error(c.loc, "duplicate constant '" + c.name + "' in enum '" + e.name + "'");
        continue;
      }
      bareConstants_[c.name].push_back({&e, c.value});
    }
  }

  // ---- pass 3: signatures ------------------------------------------------------------------
  Type resolveType(const TypeExpr& t) {
    Type base;
    if (t.name == "bool")
      base = Type::boolean();
    else if (t.name == "int")
      base = Type::integer();
    else if (t.name == "real")
      base = Type::real();
    else {
      auto it = globals_.find(t.name);
      if (it == globals_.end() || it->second->kind != DeclKind::Enum) {
        error(t.loc, "unknown type '" + t.name + "'");
        return Type::error();
      }
      base = Type::enumeration(static_cast<EnumDecl*>(it->second));
    }
    if (!t.lengthName.empty()) {
      if (base.isError()) return base;
      auto n = dataSize(t.lengthName, t.lengthLoc, "array length");
      return n ? Type::array(base, *n) : Type::error();
    }
    return t.arrayLength > 0 ? Type::array(base, t.arrayLength) : base;
  }

  // ---- sizes from the data -------------------------------------------------------------------
  // `name` used as an array length or in a loop bound (`what`) of the callable being checked
  // (sizeOwner_): it must be an int input whose value the run's data gives, at least 1 for a
  // length. Records the value on the input (VarDecl::sizeValue). Reports an error at `at` and
  // returns nullopt otherwise, or, with `why`, leaves the report to the caller.
  std::optional<int64_t> dataSize(const std::string& name, const SourceLoc& at, const char* what,
                                  std::string* why = nullptr) {
    // One report per name and callable: a size used in several places fails once.
    auto fail = [&](const std::string& msg) -> std::optional<int64_t> {
      if (sizeFailed_.insert({sizeOwner_, name}).second) {
        if (why) {
          *why = msg;
          sizeWhyShown_ = false;
        } else {
          error(at, msg);
        }
      } else if (why) {
        sizeWhyShown_ = true; // already reported: the caller stays silent
      }
      return std::nullopt;
    };
    const CallableDecl* c = sizeOwner_;
    if (!c)
      return fail(std::string(what) + " '" + name + "' must be an integer literal here");
    VarDecl* in = nullptr;
    for (VarDecl* v : c->inputs)
      if (v->name == name) in = v;
    if (!in)
      return fail(std::string(what) + " '" + name + "' is not an input of " + callableWord(c) +
                  " '" + c->name + "': a size is an integer literal or an int input whose value "
                  "the data gives");
    const TypeExpr* te = in->typeExpr ? &*in->typeExpr : nullptr;
    if (!te || te->name != "int" || te->arrayLength != 0 || !te->lengthName.empty())
      return fail(std::string(what) + " '" + name + "' must be an int input; '" + name + "' is " +
                  (te ? te->name + (te->arrayLength || !te->lengthName.empty() ? "[...]" : "")
                      : std::string("untyped")));
    if (c->kind == DeclKind::Network)
      return fail("network sizes must be integer literals (a network's shape is fixed by its "
                  "file)");
    if (in->sizeValue) return in->sizeValue;
    const DataValue* d = nullptr;
    if (sizes_)
      if (auto it = sizes_->values.find(name); it != sizes_->values.end()) d = &it->second;
    if (!d && in->rangeLo && in->rangeHi) {
      // A constant parameter: an int input whose declared range holds one value, `T: int in
      // [5, 5]`, is that value without data.
      std::string ignored;
      auto lo = constEval(*in->rangeLo, ignored), hi = constEval(*in->rangeHi, ignored);
      if (lo && hi && lo->isInt && hi->isInt && lo->i == hi->i) {
        DataValue fixed;
        fixed.origin = "input's range";
        fixed.integer = lo->i;
        fixed.isNumber = true;
        rangeSizes_.push_back(fixed);
        d = &rangeSizes_.back();
      }
    }
    if (!d)
      return fail(std::string(what) + " '" + name + "' is not known: it is the input '" + name +
                  "', whose value comes from the data of a run (give it with --data FILE or "
                  "--input " + name + "=N, or fix it with a range 'in [N, N]')");
    if (!d->integer)
      return fail(std::string(what) + " '" + name + "' must be an integer, but " + d->origin +
                  " gives '" + name + "' " +
                  (d->isNumber ? "a non-integral number" : d->arrayLength ? "an array" : "a non-number"));
    const int64_t n = *d->integer;
    const bool length = std::string_view(what) == "array length";
    if (n < 0 || (n == 0 && length))
      return fail(std::string(what) + " " + name + " = " + std::to_string(n) + " (from " +
                  d->origin + ") must be " +
                  (length ? n < 0 ? "at least 1" : "at least 1 (empty arrays are not supported yet)"
                          : "non-negative"));
    if (n > kMaxArrayLength)
      return fail(std::string(what) + " " + name + " = " + std::to_string(n) + " (from " +
                  d->origin + ") is too large; the limit is " + std::to_string(kMaxArrayLength));
    in->sizeValue = n;
    return n;
  }

  // After a callable's signature is resolved: every input fixed by the data gets the range
  // [value, value] (checked against a declared range), and every input whose length is a data
  // size must get an array of that length from the data.
  void fixDataSizes(CallableDecl& c) {
    for (VarDecl* v : c.inputs) {
      if (v->sizeValue) {
        const double n = double(*v->sizeValue);
        if (v->range && (n < v->range->lo || n > v->range->hi))
          error(v->loc, "input '" + v->name + "' = " + std::to_string(*v->sizeValue) +
                            " (from the data) is outside its range [" +
                            formatNumber(ConstVal{false, 0, v->range->lo}) + ", " +
                            formatNumber(ConstVal{false, 0, v->range->hi}) + "]");
        v->range = Range{n, n};
      }
      if (!v->typeExpr || v->typeExpr->lengthName.empty() || !v->type.isArray() || !sizes_)
        continue;
      auto it = sizes_->values.find(v->name);
      if (it == sizes_->values.end() || !it->second.arrayLength) continue;
      if (int64_t(*it->second.arrayLength) != v->type.length)
        error(v->loc, "input '" + v->name + "' has length " + v->typeExpr->lengthName + " = " +
                          std::to_string(v->type.length) + ", but " + it->second.origin +
                          " gives it " + std::to_string(*it->second.arrayLength) + " elements");
    }
  }

  // Evaluates `in [lo, hi]` of `v` (type already resolved) into v.range.
  void checkRange(VarDecl& v, const char* what) {
    if (!v.rangeLo) return;
    if (v.type.isError()) return;
    TypeKind k = v.type.isArray() ? v.type.elem : v.type.kind;
    if (k != TypeKind::Int && k != TypeKind::Real) {
      error(v.rangeLo->loc, std::string("only int and real ") + what + "s can have a range; '" +
                                v.name + "' is " + v.type.str());
      return;
    }
    std::string why;
    auto lo = constEval(*v.rangeLo, why);
    if (!lo) {
      error(v.rangeLo->loc, "range bounds must be constant numbers (" + why + ")");
      return;
    }
    auto hi = constEval(*v.rangeHi, why);
    if (!hi) {
      error(v.rangeHi->loc, "range bounds must be constant numbers (" + why + ")");
      return;
    }
    if (k == TypeKind::Int && (!lo->isInt || !hi->isInt)) {
      error((!lo->isInt ? v.rangeLo : v.rangeHi)->loc,
            "range bounds of int " + std::string(what) + " '" + v.name + "' must be integers");
      return;
    }
    if (lo->real() > hi->real()) {
      error(v.rangeLo->loc, "inverted range [" + formatNumber(*lo) + ", " + formatNumber(*hi) +
                                "] for '" + v.name + "' (lower bound above upper bound)");
      return;
    }
    v.range = Range{lo->real(), hi->real()};
  }

  void checkSignature(CallableDecl& c) {
    sizeOwner_ = &c;
    std::unordered_map<std::string, const VarDecl*> seen;
    bool net = c.kind == DeclKind::Network;
    if (net && c.inputs.empty())
      error(c.loc, "network '" + c.name + "' must have at least one input");
    if (net && c.outputs.empty())
      error(c.loc, "network '" + c.name + "' must have at least one output");
    for (auto* list : {&c.inputs, &c.outputs})
      for (VarDecl* v : *list) {
        v->type = v->typeExpr ? resolveType(*v->typeExpr) : Type::error();
        auto [it, fresh] = seen.emplace(v->name, v);
        if (!fresh)
          error(v->loc, "duplicate parameter '" + v->name + "' of " + callableWord(&c) + " '" +
                            c.name + "'");
        if (net && !v->type.isError() && v->type.kind != TypeKind::Real &&
            !(v->type.isArray() && v->type.elem == TypeKind::Real))
          error(v->typeExpr->loc, "network inputs and outputs must be real or real arrays; '" +
                                      v->name + "' is " + v->type.str());
        if (v->kind == VarKind::Output && v->rangeLo) {
          error(v->rangeLo->loc, "output '" + v->name + "' cannot have a range (only inputs can)");
          continue;
        }
        checkRange(*v, "input");
      }
    sizeOwner_ = nullptr;
  }

  // ---- scopes --------------------------------------------------------------------------------
  VarDecl* lookupVar(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end()) return f->second;
    }
    return nullptr;
  }

  void declare(VarDecl* v) {
    if (VarDecl* old = lookupVar(v->name))
      error(v->loc, "redefinition of '" + v->name + "' (previously declared at line " +
                        std::to_string(old->loc.line) + ")");
    scopes_.back()[v->name] = v;
  }

  bool topLevel() const { return scopes_.size() == 1 && loops_.empty(); }

  void undefined(const std::string& name, const SourceLoc& l) {
    if (!reportedUndefined_.insert(name).second) return;
    if (!suggestionWanted(name)) {
      error(l, "undefined name '" + name + "'");
      return;
    }
    std::vector<std::string_view> candidates;
    for (auto& scope : scopes_)
      for (auto& [n, v] : scope)
        candidates.push_back(n);
    for (auto& [n, consts] : bareConstants_)
      if (consts.size() == 1) candidates.push_back(n);
    error(l, "undefined name '" + name + "'" + didYouMean(name, candidates));
  }

  // " (did you mean 'x'?)" for the closest candidate within a small edit distance (1 for names of
  // up to 4 characters, 2 for longer ones; none for names shorter than 3), else "". Ties go to
  // the alphabetically first. Bounded work: only the first kMaxSuggestions misses per module or
  // property get a suggestion.
  bool suggestionWanted(const std::string& name) const {
    constexpr int kMaxSuggestions = 50;
    return name.size() >= 3 && suggestions_ < kMaxSuggestions;
  }
  std::string didYouMean(const std::string& name, const std::vector<std::string_view>& candidates) {
    if (!suggestionWanted(name)) return "";
    ++suggestions_;
    size_t maxd = name.size() <= 4 ? 1 : 2, best = maxd + 1;
    std::string_view bestName;
    for (std::string_view c : candidates) {
      if (c == name ||
          (c.size() > name.size() ? c.size() - name.size() : name.size() - c.size()) > maxd)
        continue;
      size_t d = editDistance(name, c);
      if (d < best || (d == best && c < bestName)) {
        best = d;
        bestName = c;
      }
    }
    return best <= maxd ? " (did you mean '" + std::string(bestName) + "'?)" : "";
  }

  // Levenshtein distance (two rows).
  static size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j)
      prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); ++j)
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
      std::swap(prev, cur);
    }
    return prev[b.size()];
  }

  // ---- pass 4: modules -----------------------------------------------------------------------
  void checkModule(ModuleDecl& m) {
    mod_ = &m;
    sizeOwner_ = &m;
    scopes_.assign(1, {});
    reportedUndefined_.clear();
    reportedRead_.clear();
    badTarget_ = false;
    suggestions_ = 0;
    states_.assign(m.outputs.size(), AState::No);
    // Duplicate parameters (reported by checkSignature) must cause no further errors: among
    // inputs or among outputs the first declaration wins and a duplicate output counts as
    // assigned; an output named like an input wins over it (assignments target outputs).
    for (VarDecl* v : m.inputs)
      scopes_.back().emplace(v->name, v);
    for (VarDecl* v : m.outputs) {
      auto [it, fresh] = scopes_.back().emplace(v->name, v);
      if (fresh) continue;
      if (it->second->kind == VarKind::Input)
        it->second = v;
      else
        states_[v->index] = AState::Yes;
    }
    for (auto& s : m.body)
      stmt(*s);
    // After an assignment to an undefined name (likely a misspelt output), "never assigned" would
    // repeat the same mistake; it is reported once the name is fixed.
    for (VarDecl* o : m.outputs) {
      if (badTarget_) break;
      if (states_[o->index] == AState::No)
        error(o->loc, "output '" + o->name + "' is never assigned");
      else if (states_[o->index] == AState::Maybe)
        error(o->loc, "output '" + o->name + "' is not assigned on every path");
    }
    mod_ = nullptr;
    sizeOwner_ = nullptr;
    scopes_.clear();
  }

  void block(std::vector<StmtPtr>& body) {
    scopes_.emplace_back();
    for (auto& s : body)
      stmt(*s);
    scopes_.pop_back();
  }

  void assignOutput(VarDecl* o, Stmt& s) {
    size_t k = static_cast<size_t>(o->index);
    if (o->type.isError()) {
      states_[k] = AState::Yes;
      return;
    }
    if (loops_.empty()) {
      if (s.index) {
        error(s.nameLoc, "output '" + o->name + "' can only be assigned element-wise ('" + o->name +
                             "[i] = ...') in a loop 'for i in 0.." +
                             std::to_string(o->type.length) + "' over its length");
      } else if (states_[k] != AState::No) {
        error(s.nameLoc, "output '" + o->name + "' is assigned more than once");
      }
      states_[k] = AState::Yes;
      return;
    }
    const Stmt& loop = *loops_.front();
    bool ok = s.index && loops_.size() == 1 && o->type.isArray() &&
              s.index->kind == ExprKind::VarRef && s.index->var == loop.var && loop.from == 0 &&
              loop.to == o->type.length;
    if (!ok) {
      std::string n = o->type.isArray() ? std::to_string(o->type.length) : "N";
      error(s.nameLoc, "output '" + o->name +
                           "' is assigned inside a loop; assign it once outside loops, or "
                           "element-wise as '" +
                           o->name +
                           "[i] = ...' directly in a loop 'for i "
                           "in 0.." +
                           n + "'");
    } else if (states_[k] != AState::No) {
      error(s.nameLoc, "output '" + o->name + "' is assigned more than once");
    }
    states_[k] = AState::Yes;
  }

  // The target of an assignment / draw: its type (the element's if indexed), or Error.
  Type target(Stmt& s, VarDecl* v) {
    s.var = v;
    if (s.index) index(s.index, v->type, v->name);
    if (v->kind != VarKind::Output && v->kind != VarKind::Local) {
      error(s.nameLoc, std::string("cannot assign to ") + kindWord(v->kind) + " '" + v->name + "'");
      return Type::error();
    }
    if (s.index && !v->type.isArray()) {
      if (!v->type.isError())
        error(s.nameLoc, "'" + v->name + "' is not an array (it is " + v->type.str() + ")");
      if (v->kind == VarKind::Output) states_[v->index] = AState::Yes;
      return Type::error();
    }
    if (v->kind == VarKind::Output) assignOutput(v, s);
    return s.index ? v->type.element() : v->type;
  }

  // Checks the index expression of `name[idx]` against the array type `arr`.
  void index(ExprPtr& idx, const Type& arr, const std::string& name) {
    Type t = expr(idx);
    if (t.isError()) return;
    if (t.kind != TypeKind::Int) {
      error(idx->loc, "array index must be int, got " + t.str());
      return;
    }
    std::string why;
    if (auto c = constEval(*idx, why); c && arr.isArray() && (c->i < 0 || c->i >= arr.length))
      error(idx->loc, "index " + std::to_string(c->i) + " is out of bounds for '" + name +
                          "' of type " + arr.str());
  }

  void stmt(Stmt& s) {
    switch (s.kind) {
    case StmtKind::Let: {
      Type t = expr(s.value);
      VarDecl* v = mod_->newVar(s.name, s.nameLoc, VarKind::Let);
      v->typeExpr = s.typeExpr;
      v->topLevel = topLevel();
      if (s.typeExpr) {
        Type want = resolveType(*s.typeExpr);
        if (!want.isError() && !coerce(s.value, want))
          error(s.value->loc, "cannot initialise '" + s.name + "' of type " + want.str() +
                                  " with a value of type " + t.str());
        t = want;
      }
      if (t.kind == TypeKind::Distribution) t = Type::error();
      v->type = t;
      s.var = v;
      declare(v);
      return;
    }
    case StmtKind::LetTuple:
      letTuple(s);
      return;
    case StmtKind::Var: {
      Type want = resolveType(*s.typeExpr);
      if (s.value) {
        Type t = expr(s.value);
        if (!want.isError() && !coerce(s.value, want))
          error(s.value->loc, "cannot initialise '" + s.name + "' of type " + want.str() +
                                  " with a value of type " + t.str());
      }
      VarDecl* v = mod_->newVar(s.name, s.nameLoc, VarKind::Local);
      v->typeExpr = s.typeExpr;
      v->type = want;
      v->topLevel = topLevel();
      s.var = v;
      declare(v);
      return;
    }
    case StmtKind::Assign: {
      Type t = expr(s.value);
      VarDecl* v = lookupVar(s.name);
      if (!v) {
        undefined(s.name, s.nameLoc);
        badTarget_ = true;
        if (s.index) expr(s.index);
        return;
      }
      Type want = target(s, v);
      if (!want.isError() && !coerce(s.value, want))
        error(s.value->loc, "cannot assign a value of type " + t.str() + " to '" + s.name +
                                (s.index ? "[...]" : "") + "' of type " + want.str());
      return;
    }
    case StmtKind::Sample: {
      VarDecl* v = lookupVar(s.name);
      // A draw into a whole array output or local is vectorised: one draw per element (§5.6).
      const int64_t n = v && v->kind != VarKind::Input && !s.index && v->type.isArray()
                            ? v->type.length
                            : 0;
      Type dt = dist(s.value, "'~'", n);
      if (n > 0 && !dt.isError()) dt = Type::array(dt, n);
      if (!v) {
        if (s.index) {
          undefined(s.name, s.nameLoc);
          badTarget_ = true;
          expr(s.index);
          return;
        }
        if (!loops_.empty())
          error(s.nameLoc, "random choice '" + s.name +
                               "' is drawn inside a loop, so its "
                               "address would repeat; declare an array ('var " +
                               s.name + ": real[N];') and draw '" + s.name + "[i] ~ ...'");
        v = mod_->newVar(s.name, s.nameLoc, VarKind::Random);
        v->type = dt;
        v->topLevel = topLevel();
        s.var = v;
        declare(v);
        return;
      }
      if (v->kind == VarKind::Input) {
        // A Stan habit: `y[t] ~ Normal(...)` on data. Here an input is a value, not a choice.
        std::string d = s.value->kind == ExprKind::Dist ? s.value->name : "D";
        s.var = v;
        std::string idx;
        if (s.index) {
          index(s.index, v->type, v->name);
          bool simple = s.index->kind == ExprKind::VarRef || s.index->kind == ExprKind::IntLit;
          idx = "[" + (simple ? printExpr(*s.index) : std::string("...")) + "]";
        }
        error(s.nameLoc, "cannot draw into input '" + s.name + "': inputs are data, not random "
                         "choices; to condition on the data write 'observe(" + d + "(...), " +
                         s.name + idx + ");'");
        return;
      }
      Type want = target(s, v);
      if (!want.isError() && !dt.isError() && want != dt)
        error(s.nameLoc, "cannot draw a value of type " + dt.str() + " (from '" + s.value->name +
                             "') into '" + s.name + (s.index ? "[...]" : "") + "' of type " +
                             want.str());
      return;
    }
    case StmtKind::Observe: {
      Type t = expr(s.value2);
      // An array of observations is vectorised: one observation per element (§5.6).
      const int64_t n = t.isArray() ? t.length : 0;
      Type dt = dist(s.value, "'observe'", n);
      if (n > 0 && !dt.isError()) {
        if (!coerce(s.value2, Type::array(dt, n)))
          error(s.value2->loc, "observed array must be " + Type::array(dt, n).str() +
                                   " (draws of '" + s.value->name + "'), got " + t.str());
        return;
      }
      if (!dt.isError() && !coerce(s.value2, dt))
        error(s.value2->loc, "observed value must be " + dt.str() + " (a draw of '" +
                                 s.value->name + "'), got " + t.str());
      return;
    }
    case StmtKind::Condition:
    case StmtKind::Assert: {
      Type t = expr(s.value);
      if (!t.isError() && t.kind != TypeKind::Bool)
        error(s.value->loc, std::string(s.kind == StmtKind::Assert ? "assert" : "condition") +
                                " needs a bool, got " + t.str());
      return;
    }
    case StmtKind::Factor: {
      Type t = expr(s.value);
      if (!t.isError() && !coerce(s.value, Type::real()))
        error(s.value->loc, "factor needs a real log-weight, got " + t.str());
      return;
    }
    case StmtKind::If: {
      Type t = expr(s.value);
      if (!t.isError() && t.kind != TypeKind::Bool)
        error(s.value->loc, "condition of 'if' must be bool, got " + t.str());
      auto before = states_;
      block(s.body);
      auto thenStates = states_;
      states_ = before;
      block(s.elseBody);
      for (size_t k = 0; k < states_.size(); ++k)
        if (thenStates[k] != states_[k]) states_[k] = AState::Maybe;
      return;
    }
    case StmtKind::For: {
      bool okLo = loopBound(*s.lo, s.from); // both bounds are checked, for their diagnostics
      bool okHi = loopBound(*s.hi, s.to);
      bool okBounds = okLo && okHi;
      if (!okBounds) s.from = s.to = 0;
      // Bounded unrolling: the back ends run or unroll every iteration, so the trip count of a
      // loop, and the product of the trip counts of the loops it is nested in, are capped at
      // kMaxLoopIterations (computed in 128 bits: to - from may exceed int64). A loop over the
      // cap is reported at its 'for' and then treated as empty, so later passes stay bounded.
      __int128 trips = s.to > s.from ? static_cast<__int128>(s.to) - s.from : 0;
      __int128 total = trips * outerTrips_;
      if (trips > kMaxLoopIterations) {
        error(s.loc, "loop runs " + str128(trips) + " times; the limit is " +
                         std::to_string(kMaxLoopIterations));
        s.from = s.to = 0;
      } else if (total > kMaxLoopIterations) {
        error(s.loc, "nested loops run " + str128(total) + " times in all; the limit is " +
                         std::to_string(kMaxLoopIterations));
        s.from = s.to = 0;
      }
      __int128 savedOuter = outerTrips_;
      outerTrips_ *= s.to > s.from ? s.to - s.from : 1;
      VarDecl* v = mod_->newVar(s.name, s.nameLoc, VarKind::LoopIndex);
      v->type = Type::integer();
      s.var = v;
      scopes_.emplace_back();
      declare(v);
      bool outer = loops_.empty();
      if (outer) loopBefore_ = states_;
      loops_.push_back(&s);
      block(s.body);
      loops_.pop_back();
      outerTrips_ = savedOuter;
      if (outer)
        for (VarDecl* o : mod_->outputs) {
          size_t k = static_cast<size_t>(o->index);
          if (loopBefore_[k] == AState::No && states_[k] == AState::Maybe) {
            error(o->loc, "output '" + o->name + "' is not assigned on every path");
            states_[k] = AState::Yes;
          }
        }
      scopes_.pop_back();
      return;
    }
    }
  }

  bool loopBound(const Expr& e, int64_t& out) {
    std::string why;
    // A name in a bound is an int input fixed by the data (`for t in 0..T`).
    bool nameFailed = false;
    NameValue names = [this, &nameFailed](const Expr& n, std::string& w) -> std::optional<int64_t> {
      bool input = false;
      for (const VarDecl* in : sizeOwner_ ? sizeOwner_->inputs : std::vector<VarDecl*>{})
        input = input || in->name == n.name;
      if (!input) { // not a size: the general message
        w = "not a constant";
        return std::nullopt;
      }
      auto v = dataSize(n.name, n.loc, "loop bound", &w);
      nameFailed = !v;
      return v;
    };
    auto c = constEval(e, why, &names);
    if (!c && nameFailed) { // the name's own message, once
      if (!sizeWhyShown_) error(e.loc, why);
      return false;
    }
    if (!c) {
      error(e.loc, "loop bounds must be constant integer expressions (" + why + ")");
      return false;
    }
    if (!c->isInt) {
      error(e.loc, "loop bounds must be integers, got " + formatNumber(*c));
      return false;
    }
    out = c->i;
    return true;
  }

  // ---- expressions ---------------------------------------------------------------------------
  // int -> real (or int[N] -> real[N]) if needed; false if `e` cannot become `to`.
  bool coerce(ExprPtr& e, const Type& to) {
    const Type& from = e->type;
    if (from.isError() || to.isError() || from == to) return true;
    bool scalar = from.kind == TypeKind::Int && to.kind == TypeKind::Real;
    bool arr = from.isArray() && to.isArray() && from.elem == TypeKind::Int &&
               to.elem == TypeKind::Real && from.length == to.length;
    if (!scalar && !arr) return false;
    auto p = std::make_unique<Expr>(ExprKind::Promote, e->loc);
    p->type = to;
    p->depth = e->depth + 1;
    p->args.push_back(std::move(e));
    e = std::move(p);
    return true;
  }

  Type set(ExprPtr& e, Type t) {
    e->type = t;
    return t;
  }

  Type expr(ExprPtr& e) {
    switch (e->kind) {
    case ExprKind::IntLit:
      return set(e, Type::integer());
    case ExprKind::RealLit:
      return set(e, Type::real());
    case ExprKind::BoolLit:
      return set(e, Type::boolean());
    case ExprKind::Name:
      return name(e);
    case ExprKind::Member:
      return member(e);
    case ExprKind::Index: {
      // Reading x[i] of an output being assigned element-wise in the loop over i is allowed.
      bool partial = false;
      if (!loops_.empty() && e->args[1]->kind == ExprKind::Name)
        partial = lookupVar(e->args[1]->name) == loops_.front()->var;
      partialRead_ = partial && e->args[0]->kind == ExprKind::Name;
      Type b = expr(e->args[0]);
      partialRead_ = false;
      if (!b.isError() && !b.isArray()) {
        error(e->loc, "cannot index a value of type " + b.str());
        expr(e->args[1]);
        return set(e, Type::error());
      }
      index(e->args[1], b, e->args[0]->kind == ExprKind::VarRef ? e->args[0]->name : "array");
      return set(e, b.isError() ? b : b.element());
    }
    case ExprKind::ArrayLit:
      return arrayLit(e);
    case ExprKind::Unary: {
      Type a = expr(e->args[0]);
      if (a.isError()) return set(e, a);
      if (e->unaryOp == UnaryOp::Neg) {
        if (!a.isNumeric()) {
          error(e->loc, "operator '-' needs a number, got " + a.str());
          return set(e, Type::error());
        }
        return set(e, a);
      }
      if (a.kind != TypeKind::Bool) {
        error(e->loc, "operator '!' needs a bool, got " + a.str());
        return set(e, Type::error());
      }
      return set(e, a);
    }
    case ExprKind::Binary:
      return binary(e);
    case ExprKind::Cond: {
      Type c = expr(e->args[0]);
      Type a = expr(e->args[1]);
      Type b = expr(e->args[2]);
      if (!c.isError() && c.kind != TypeKind::Bool)
        error(e->args[0]->loc, "condition must be bool, got " + c.str());
      if (a.isError() || b.isError()) return set(e, Type::error());
      if (a == b) return set(e, a);
      if (a.isNumeric() && b.isNumeric()) {
        coerce(e->args[1], Type::real());
        coerce(e->args[2], Type::real());
        return set(e, Type::real());
      }
      if (coerce(e->args[1], b)) return set(e, b);
      if (coerce(e->args[2], a)) return set(e, a);
      error(e->loc,
            "branches of the conditional have different types: " + a.str() + " and " + b.str());
      return set(e, Type::error());
    }
    case ExprKind::Call:
      return call(e, false);
    case ExprKind::Quant:
      return quant(e);
    case ExprKind::Always:
    case ExprKind::Prob:
    case ExprKind::Expect:
      return modelQuery(e);
    case ExprKind::VarRef:
    case ExprKind::EnumConst:
    case ExprKind::Promote:
    case ExprKind::Builtin:
    case ExprKind::Dist:
      return e->type; // already checked
    }
    return set(e, Type::error());
  }

  Type name(ExprPtr& e) {
    if (VarDecl* v = lookupVar(e->name)) {
      e->kind = ExprKind::VarRef;
      e->var = v;
      if (mod_ && v->kind == VarKind::Output) checkOutputRead(*v, e->loc);
      if (v->type.kind == TypeKind::Distribution) return set(e, Type::error());
      return set(e, v->type);
    }
    auto bc = bareConstants_.find(e->name);
    if (bc != bareConstants_.end()) {
      if (bc->second.size() > 1) {
        error(e->loc, "ambiguous enum constant '" + e->name + "' (in '" +
                          bc->second[0].first->name + "' and '" + bc->second[1].first->name +
                          "'); write " + bc->second[0].first->name + "." + e->name);
        return set(e, Type::error());
      }
      e->kind = ExprKind::EnumConst;
      e->enumDecl = bc->second[0].first;
      e->intValue = bc->second[0].second;
      return set(e, Type::enumeration(e->enumDecl));
    }
    auto g = globals_.find(e->name);
    if (g != globals_.end()) {
      Decl* d = g->second;
      if (d->kind == DeclKind::Enum)
        error(e->loc, "'" + e->name + "' is an enum type, not a value");
      else if (d->kind == DeclKind::Property)
        error(e->loc, "'" + e->name + "' is a property, not a value");
      else
        error(e->loc, std::string(d->kind == DeclKind::Network ? "network" : "module") + " '" +
                          e->name + "' must be called: " + e->name + "(...)");
      return set(e, Type::error());
    }
    undefined(e->name, e->loc);
    return set(e, Type::error());
  }

  void checkOutputRead(const VarDecl& v, const SourceLoc& l) {
    size_t k = static_cast<size_t>(v.index);
    if (k >= states_.size()) return;
    AState s = states_[k];
    std::string msg;
    if (s == AState::No)
      msg = "output '" + v.name + "' is read before it is assigned";
    else if (s == AState::Maybe)
      msg = "output '" + v.name + "' is read before it is assigned on every path";
    else if (!loops_.empty() && loopBefore_[k] != AState::Yes && !partialRead_)
      msg = "output '" + v.name + "' is read while it is being assigned element-wise; only '" +
            v.name + "[" + loops_.front()->name + "]' can be read in this loop";
    if (!msg.empty() && reportedRead_.insert(v.name).second) error(l, msg);
  }

  Type member(ExprPtr& e) {
    Expr& base = *e->args[0];
    // Color.Red: an enum-qualified constant.
    if (base.kind == ExprKind::Name && !lookupVar(base.name)) {
      auto g = globals_.find(base.name);
      if (g != globals_.end() && g->second->kind == DeclKind::Enum) {
        auto* en = static_cast<EnumDecl*>(g->second);
        for (const EnumConstant& c : en->constants)
          if (c.name == e->name) {
            e->kind = ExprKind::EnumConst;
            e->enumDecl = en;
            e->intValue = c.value;
            e->loc = base.loc;
            e->args.clear();
            return set(e, Type::enumeration(en));
          }
        error(e->nameLoc, "enum '" + en->name + "' has no constant '" + e->name + "'");
        return set(e, Type::error());
      }
    }
    if (base.kind == ExprKind::Call) {
      call(e->args[0], true);
      Expr& c = *e->args[0];
      if (c.kind != ExprKind::Call) { // a builtin's result has no outputs to select
        if (!c.type.isError())
          error(e->nameLoc, "'.' needs an enum name or a call of a module or network on its left");
        return set(e, Type::error());
      }
      if (!c.callee) return set(e, Type::error()); // reported by call()
      int k = c.callee->outputIndex(e->name);
      if (k < 0) {
        std::string outs;
        for (const VarDecl* o : c.callee->outputs)
          outs += (outs.empty() ? "" : ", ") + o->name;
        error(e->nameLoc, std::string(callableWord(c.callee)) + " '" + c.callee->name +
                              "' has no output '" + e->name + "'" +
                              (outs.empty() ? " (it has no outputs)" : " (outputs: " + outs + ")"));
        return set(e, Type::error());
      }
      ExprPtr callNode = std::move(e->args[0]);
      callNode->outputIndex = k;
      callNode->field = e->name;
      callNode->nameLoc = e->nameLoc;
      callNode->type = c.callee->outputs[k]->type;
      e = std::move(callNode);
      return e->type;
    }
    Type b = expr(e->args[0]);
    if (!b.isError())
      error(e->nameLoc, "'.' needs an enum name or a call of a module or network on its left");
    return set(e, Type::error());
  }

  Type binary(ExprPtr& e) {
    Type a = expr(e->args[0]);
    Type b = expr(e->args[1]);
    if (a.isError() || b.isError()) return set(e, Type::error());
    BinaryOp op = e->binaryOp;
    std::string sp = binaryOpSpelling(op);
    auto bad = [&](const std::string& need) {
      error(e->loc, "operator '" + sp + "' needs " + need + ", got " + a.str() + " and " + b.str());
      return set(e, Type::error());
    };
    switch (op) {
    case BinaryOp::Add:
    case BinaryOp::Sub:
    case BinaryOp::Mul:
    case BinaryOp::Div:
      if (!a.isNumeric() || !b.isNumeric()) return bad("numbers");
      if (op != BinaryOp::Div && a.kind == TypeKind::Int && b.kind == TypeKind::Int)
        return set(e, Type::integer());
      coerce(e->args[0], Type::real());
      coerce(e->args[1], Type::real());
      return set(e, Type::real());
    case BinaryOp::Mod:
      if (a.kind != TypeKind::Int || b.kind != TypeKind::Int) return bad("two ints");
      return set(e, Type::integer());
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge:
      if (!a.isNumeric() || !b.isNumeric()) return bad("numbers");
      if (a != b) {
        coerce(e->args[0], Type::real());
        coerce(e->args[1], Type::real());
      }
      return set(e, Type::boolean());
    case BinaryOp::Eq:
    case BinaryOp::Ne:
      if (a.isNumeric() && b.isNumeric()) {
        if (a != b) {
          coerce(e->args[0], Type::real());
          coerce(e->args[1], Type::real());
        }
        return set(e, Type::boolean());
      }
      if (a.isScalar() && a == b) return set(e, Type::boolean());
      return bad("two numbers, two bools or two values of the same enum");
    case BinaryOp::And:
    case BinaryOp::Or:
    case BinaryOp::Implies:
      if (a.kind != TypeKind::Bool || b.kind != TypeKind::Bool) return bad("bools");
      return set(e, Type::boolean());
    }
    return set(e, Type::error());
  }

  Type arrayLit(ExprPtr& e) {
    Type t;
    bool err = false, anyReal = false;
    for (auto& a : e->args) {
      Type x = expr(a);
      if (x.isError()) {
        err = true;
        continue;
      }
      if (!x.isScalar()) {
        error(a->loc, "array elements must be scalars, got " + x.str());
        err = true;
        continue;
      }
      anyReal |= x.kind == TypeKind::Real;
      if (t.isError())
        t = x;
      else if (t != x && !(t.isNumeric() && x.isNumeric())) {
        error(a->loc, "array elements must have one type: " + t.str() + " and " + x.str());
        err = true;
      }
    }
    if (err || t.isError()) return set(e, Type::error());
    if (t.isNumeric() && anyReal) {
      t = Type::real();
      for (auto& a : e->args)
        coerce(a, t);
    }
    return set(e, Type::array(t, static_cast<int64_t>(e->args.size())));
  }

  // A call `name(args)`: a builtin, a module or a network (distributions only via dist()).
  Type call(ExprPtr& e, bool selecting) {
    if (distKindFromName(e->name)) {
      for (auto& a : e->args)
        expr(a);
      error(e->loc, "distribution '" + e->name +
                        "' can only be used on the right of '~' or as the first argument of "
                        "'observe'");
      return set(e, Type::error());
    }
    if (auto b = builtinFromName(e->name)) return builtin(e, *b);
    auto g = globals_.find(e->name);
    if (g == globals_.end() ||
        (g->second->kind != DeclKind::Module && g->second->kind != DeclKind::Network)) {
      for (auto& a : e->args)
        expr(a);
      if (lookupVar(e->name))
        error(e->loc, "'" + e->name + "' is a variable, not a function");
      else if (auto d = stanDensityName(e->name))
        error(e->loc, "undefined function '" + e->name + "': Stan's " + e->name +
                          "(x | ...) is written lpdf(" + std::string(signature(*d).name) +
                          "(...), x) here");
      else if (g != globals_.end())
        error(e->loc, "'" + e->name + "' is not a module or network");
      else if (!suggestionWanted(e->name))
        error(e->loc, "undefined module, network or function '" + e->name + "'");
      else {
        std::vector<std::string_view> candidates;
        for (CallableDecl* c : callables_)
          candidates.push_back(c->name);
        for (int b = 0; b <= static_cast<int>(Builtin::Lpdf); ++b)
          candidates.push_back(builtinName(static_cast<Builtin>(b)));
        error(e->loc, "undefined module, network or function '" + e->name + "'" +
                          didYouMean(e->name, candidates));
      }
      return set(e, Type::error());
    }
    auto* c = static_cast<CallableDecl*>(g->second);
    e->callee = c;
    if (mod_) edges_.push_back({mod_, c, e->loc});
    bool ok = true;
    for (auto& a : e->args)
      ok &= !expr(a).isError();
    if (e->args.size() != c->inputs.size()) {
      error(e->loc, std::string(callableWord(c)) + " '" + c->name + "' expects " +
                        std::to_string(c->inputs.size()) + " argument" +
                        (c->inputs.size() == 1 ? "" : "s") + ", got " +
                        std::to_string(e->args.size()));
      return set(e, Type::error());
    }
    for (size_t i = 0; i < e->args.size(); ++i) {
      const VarDecl* in = c->inputs[i];
      Type got = e->args[i]->type;
      if (!coerce(e->args[i], in->type)) {
        error(e->args[i]->loc, "argument " + std::to_string(i + 1) + " of '" + c->name + "' ('" +
                                   in->name + "') must be " + in->type.str() + ", got " +
                                   got.str());
        ok = false;
      }
    }
    if (selecting) return set(e, ok ? Type::real() : Type::error()); // replaced by member()
    if (c->outputs.size() != 1) {
      error(e->loc, std::string(callableWord(c)) + " '" + c->name + "' has " +
                        (c->outputs.empty() ? std::string("no outputs")
                                            : std::to_string(c->outputs.size()) +
                                                  " outputs; select one with '.name'"));
      return set(e, Type::error());
    }
    e->outputIndex = 0;
    return set(e, c->outputs[0]->type);
  }

  // Stan's name of a log density, `normal_lpdf`, `poisson_lpmf`, `student_t_lpdf`: the
  // distribution it names (letters compared without case and underscores), or nullopt.
  static std::optional<DistKind> stanDensityName(std::string_view n) {
    for (std::string_view suffix : {"_lpdf", "_lpmf", "_log"}) {
      if (n.size() <= suffix.size() || n.substr(n.size() - suffix.size()) != suffix) continue;
      auto squash = [](std::string_view x) {
        std::string r;
        for (char ch : x)
          if (ch != '_') r += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return r;
      };
      std::string base = squash(n.substr(0, n.size() - suffix.size()));
      for (size_t i = 0; i < kDistSignatures.size(); ++i)
        if (squash(kDistSignatures[i].name) == base) return static_cast<DistKind>(i);
    }
    return std::nullopt;
  }

  // `let (a, b, ...) = M(args);`: one call, each output bound to a name (in output order).
  void letTuple(Stmt& s) {
    const CallableDecl* callee = nullptr;
    Type t = Type::error();
    if (s.value->kind == ExprKind::Call && !distKindFromName(s.value->name) &&
        !builtinFromName(s.value->name)) {
      t = call(s.value, true);
      if (s.value->kind == ExprKind::Call) callee = s.value->callee;
      if (!callee) t = Type::error(); // reported by call()
    } else {
      t = expr(s.value);
      if (!t.isError())
        error(s.value->loc, "'let (" + joinNames(s.names) +
                                ") = ...' needs a call of a module or network with " +
                                std::to_string(s.names.size()) + " outputs on its right");
      t = Type::error();
    }
    if (callee && callee->outputs.size() != s.names.size()) {
      std::string outs;
      for (const VarDecl* o : callee->outputs)
        outs += (outs.empty() ? "" : ", ") + o->name;
      error(s.value->loc, std::string(callableWord(callee)) + " '" + callee->name + "' has " +
                              std::to_string(callee->outputs.size()) + " output" +
                              (callee->outputs.size() == 1 ? "" : "s") +
                              (outs.empty() ? "" : " (" + outs + ")") + "; 'let (...)' binds " +
                              std::to_string(s.names.size()) + " names");
      t = Type::error();
    }
    if (callee && !t.isError()) {
      s.value->outputIndex = 0;
      s.value->type = callee->outputs[0]->type;
    }
    for (size_t k = 0; k < s.names.size(); ++k) {
      VarDecl* v = mod_->newVar(s.names[k], s.nameLocs[k], VarKind::Let);
      v->topLevel = topLevel();
      v->type = t.isError() ? Type::error() : callee->outputs[k]->type;
      s.vars.push_back(v);
      declare(v);
    }
    s.var = s.vars.empty() ? nullptr : s.vars[0];
  }

  static std::string joinNames(const std::vector<std::string>& names) {
    std::string r;
    for (const std::string& n : names)
      r += (r.empty() ? "" : ", ") + n;
    return r;
  }

  // `lpdf(D(params), x)`: the log density (mass) of D at x, a real. D's parameters are checked
  // as for observe; x must have D's draw type (an int promotes for a real D). The lowering
  // (spec/lower.cpp) writes the density with the IR's operators; the densities that need the
  // log-gamma function of a value that is not a constant are reported here.
  Type lpdf(ExprPtr& e) {
    if (e->args.size() != 2) {
      for (auto& a : e->args)
        if (!(a->kind == ExprKind::Call && distKindFromName(a->name))) expr(a);
      error(e->loc, "'lpdf' expects 2 arguments (a distribution and a value, e.g. "
                    "'lpdf(Normal(0.0, 1.0), x)'), got " +
                        std::to_string(e->args.size()));
      return set(e, Type::error());
    }
    Type dt = dist(e->args[0], "'lpdf'");
    Type t = expr(e->args[1]);
    if (dt.isError() || t.isError()) return set(e, Type::error());
    const Expr& d = *e->args[0];
    if (!coerce(e->args[1], dt)) {
      error(e->args[1]->loc, "the value of 'lpdf(" + d.name + "(...), x)' must be " + dt.str() +
                                 " (a draw of '" + d.name + "'), got " + t.str());
      return set(e, Type::error());
    }
    // Parameters whose log-gamma the density needs, and that must therefore be constants
    // (folded while lowering): the IR has no lgamma operator.
    std::string why;
    auto needConstant = [&](const Expr& a, const std::string& what, const std::string& lg) {
      if (auto v = constEval(a, why)) {
        bool positive = lg == "x + 1" || lg == "n + 1" || v->real() > 0;
        if (!positive)
          error(a.loc, "lpdf(" + d.name + ", ...): " + what + " must be positive, got " +
                           formatNumber(*v));
        return positive;
      }
      error(a.loc, "lpdf(" + d.name + ", ...) is not supported yet when " + what +
                       " is not a constant: its density needs lgamma(" + lg +
                       "), which the IR does not have");
      return false;
    };
    bool ok = true;
    switch (d.dist) {
    case DistKind::StudentT:
      ok = needConstant(*d.args[0], "nu", "nu / 2");
      break;
    case DistKind::Gamma:
      ok = needConstant(*d.args[0], "shape", "shape");
      break;
    case DistKind::Beta:
      ok = needConstant(*d.args[0], "a", "a");
      ok = needConstant(*d.args[1], "b", "b") && ok;
      break;
    case DistKind::Poisson:
      ok = needConstant(*e->args[1], "the value", "x + 1");
      break;
    case DistKind::Binomial:
      ok = needConstant(*d.args[0], "n", "n + 1");
      ok = needConstant(*e->args[1], "the value", "x + 1") && ok;
      break;
    default:
      break;
    }
    return set(e, ok ? Type::real() : Type::error());
  }

  Type builtin(ExprPtr& e, Builtin b) {
    e->kind = ExprKind::Builtin;
    e->builtin = b;
    std::string bn = builtinName(b);
    if (b == Builtin::Lpdf) return lpdf(e);
    bool err = false;
    for (auto& a : e->args)
      err |= expr(a).isError();
    size_t want = b == Builtin::Min || b == Builtin::Max || b == Builtin::Dot || b == Builtin::Pow
                      ? 2
                  : b == Builtin::LogMix ? 3
                                         : 1;
    if (b == Builtin::LogSumExp && e->args.size() == 2) want = 2;
    if (e->args.size() != want) {
      error(e->loc, "'" + bn + "' expects " +
                        (b == Builtin::LogSumExp ? std::string("1 or 2") : std::to_string(want)) +
                        " argument" + (want == 1 && b != Builtin::LogSumExp ? "" : "s") +
                        ", got " + std::to_string(e->args.size()));
      return set(e, Type::error());
    }
    if (err) return set(e, Type::error());
    auto numArray = [](const Type& t) {
      return t.isArray() && (t.elem == TypeKind::Int || t.elem == TypeKind::Real);
    };
    auto numeric = [&](const Type& t) { return t.isNumeric() || numArray(t); };
    const Type a = e->args[0]->type;
    auto realOf = [](const Type& t) {
      return t.isArray() ? Type::array(Type::real(), t.length) : Type::real();
    };
    switch (b) {
    case Builtin::Min:
    case Builtin::Max:
    case Builtin::Dot: {
      const Type c = e->args[1]->type;
      bool arrays = numArray(a) && numArray(c) && a.length == c.length;
      bool scalars = a.isNumeric() && c.isNumeric();
      if (b == Builtin::Dot ? !arrays : !(arrays || scalars)) {
        error(e->loc, "'" + bn + "' expects " +
                          (b == Builtin::Dot ? std::string("two number arrays of the same length")
                                             : std::string("two numbers or two number arrays of "
                                                           "the same length")) +
                          ", got " + a.str() + " and " + c.str());
        return set(e, Type::error());
      }
      bool ints = (arrays ? a.elem == TypeKind::Int && c.elem == TypeKind::Int
                          : a.kind == TypeKind::Int && c.kind == TypeKind::Int);
      if (ints) return set(e, b == Builtin::Dot ? Type::integer() : a);
      coerce(e->args[0], realOf(a));
      coerce(e->args[1], realOf(c));
      return set(e, b == Builtin::Dot ? Type::real() : realOf(a));
    }
    case Builtin::Abs:
    case Builtin::Fabs:
    case Builtin::Relu:
    case Builtin::Square:
      if (!numeric(a)) break;
      return set(e, a);
    case Builtin::Pow:
    case Builtin::LogSumExp:
    case Builtin::LogMix: {
      if (b == Builtin::LogSumExp && e->args.size() == 1) {
        if (!numArray(a)) {
          error(e->loc, "'log_sum_exp' expects an array of numbers or two numbers, got " + a.str());
          return set(e, Type::error());
        }
        coerce(e->args[0], realOf(a));
        return set(e, Type::real());
      }
      std::string got;
      bool scalars = true;
      for (size_t k = 0; k < e->args.size(); ++k) {
        got += (k == 0 ? "" : k + 1 == e->args.size() ? " and " : ", ") + e->args[k]->type.str();
        scalars &= e->args[k]->type.isNumeric();
      }
      if (!scalars) {
        error(e->loc, "'" + bn + "' expects " + (e->args.size() == 3 ? "three" : "two") +
                          " numbers" + (b == Builtin::LogSumExp ? " or an array of numbers" : "") +
                          ", got " + got);
        return set(e, Type::error());
      }
      for (auto& x : e->args)
        coerce(x, Type::real());
      return set(e, Type::real());
    }
    case Builtin::Lpdf:
      break; // handled above
    case Builtin::Exp:
    case Builtin::Log:
    case Builtin::Sqrt:
    case Builtin::Sigmoid:
    case Builtin::Tanh:
      if (!numeric(a)) break;
      coerce(e->args[0], realOf(a));
      return set(e, realOf(a));
    case Builtin::Sum:
      if (!numArray(a)) break;
      return set(e, a.element());
    case Builtin::Argmax:
      if (!numArray(a)) break;
      return set(e, Type::integer());
    }
    bool arr = b == Builtin::Sum || b == Builtin::Argmax;
    error(e->loc, "'" + bn + "' expects " +
                      (arr ? "an array of numbers" : "a number or an array of numbers") + ", got " +
                      a.str());
    return set(e, Type::error());
  }

  // `D(args)` under '~' or observe: returns the draw's type, or Error.
  // `vecLen` > 0: the statement is vectorised over arrays of that length (observe(D(...), y)
  // with y an array, x ~ D(...) with x an array): a real parameter may then be a scalar (shared)
  // or an array of that length (elementwise).
  Type dist(ExprPtr& e, const char* where, int64_t vecLen = 0) {
    if (e->kind != ExprKind::Call) {
      expr(e);
      if (!e->type.isError())
        error(e->loc, std::string("expected a distribution (e.g. 'Normal(0.0, 1.0)') in ") + where +
                          ", found a value of type " + e->type.str());
      return Type::error();
    }
    auto k = distKindFromName(e->name);
    if (!k) {
      for (auto& a : e->args)
        expr(a);
      auto g = globals_.find(e->name);
      if (builtinFromName(e->name) || g != globals_.end())
        error(e->loc, "'" + e->name + "' is not a distribution");
      else
        error(e->loc, "unknown distribution '" + e->name + "'");
      return Type::error();
    }
    e->kind = ExprKind::Dist;
    e->dist = *k;
    e->type = Type::distribution();
    const DistSignature& sig = signature(*k);
    bool err = false;
    for (auto& a : e->args)
      err |= expr(a).isError();
    if (static_cast<int>(e->args.size()) != sig.nparams) {
      error(e->loc, "distribution '" + e->name + "' expects " + std::to_string(sig.nparams) +
                        " argument" + (sig.nparams == 1 ? "" : "s") + ", got " +
                        std::to_string(e->args.size()));
      return Type::error();
    }
    for (int i = 0; i < sig.nparams; ++i) {
      ExprPtr& a = e->args[i];
      Type got = a->type;
      if (got.isError()) continue;
      std::string p = "distribution '" + e->name + "' parameter '" +
                      std::string(sig.paramNames[i]) + "' must be ";
      switch (sig.paramTypes[i]) {
      case DistParamType::Real:
        if (vecLen > 0 && got.isArray()) {
          if (got.length != vecLen || !coerce(a, Type::array(Type::real(), vecLen)))
            error(a->loc, p + "real or real[" + std::to_string(vecLen) +
                              "] (elementwise, as long as the vectorised array), got " +
                              got.str()),
                err = true;
          break;
        }
        if (!coerce(a, Type::real())) error(a->loc, p + "real, got " + got.str()), err = true;
        break;
      case DistParamType::Int:
        if (got.kind != TypeKind::Int) error(a->loc, p + "int, got " + got.str()), err = true;
        break;
      case DistParamType::RealArray:
        if (!got.isArray() || !coerce(a, Type::array(Type::real(), got.length)))
          error(a->loc, p + "a real array, got " + got.str()), err = true;
        break;
      case DistParamType::None:
        break;
      }
    }
    return err ? Type::error() : distResultType(*k);
  }

  // ---- pass 5: properties --------------------------------------------------------------------
  void checkProperty(PropertyDecl& p) {
    mod_ = nullptr;
    scopes_.assign(1, {});
    reportedUndefined_.clear();
    suggestions_ = 0;
    size_t before = diags_.errorCount();
    Type t = expr(p.body);
    if (!t.isError() && t.kind != TypeKind::Bool)
      error(p.body->loc, "property '" + p.name + "' must be a bool expression, got " + t.str());
    else if (!t.isError() && diags_.errorCount() == before) // no cascade after other errors
      checkPropertyShape(*p.body);
    if (t.isError() || diags_.errorCount() != before) badProps_.insert(&p);
    scopes_.clear();
  }

  // The shapes of properties the back ends take (spec/lower.h): `always[M](e)`; `P[M](..)` or
  // `E[M](..)` compared (< <= > >=) with a constant number; or forall/exists binders around a
  // body. Quantifiers, always, P and E appear nowhere else.
  void checkPropertyShape(const Expr& body) {
    static const char* kTop = "quantifiers, always[], P[] and E[] are supported only at the top "
                              "of a property (P[] and E[] compared with a constant)";
    auto isPE = [](const Expr& x) {
      return x.kind == ExprKind::Prob || x.kind == ExprKind::Expect;
    };
    // The first (in source order) quantifier / always / P / E inside `e`, or null.
    auto nested = [](const Expr& e) -> const Expr* {
      std::vector<const Expr*> stack{&e};
      while (!stack.empty()) {
        const Expr* x = stack.back();
        stack.pop_back();
        if (x->kind == ExprKind::Quant || x->kind == ExprKind::Always ||
            x->kind == ExprKind::Prob || x->kind == ExprKind::Expect)
          return x;
        for (auto it = x->args.rbegin(); it != x->args.rend(); ++it)
          if (*it) stack.push_back(it->get());
      }
      return nullptr;
    };
    auto inside = [&](const Expr& q) {
      for (auto& a : q.args)
        if (a)
          if (const Expr* n = nested(*a)) return error(n->loc, kTop);
    };
    if (body.kind == ExprKind::Always) return inside(body);
    if (body.kind == ExprKind::Binary &&
        (body.binaryOp == BinaryOp::Lt || body.binaryOp == BinaryOp::Le ||
         body.binaryOp == BinaryOp::Gt || body.binaryOp == BinaryOp::Ge) &&
        (isPE(*body.args[0]) || isPE(*body.args[1]))) {
      const Expr& pe = isPE(*body.args[0]) ? *body.args[0] : *body.args[1];
      const Expr& bound = isPE(*body.args[0]) ? *body.args[1] : *body.args[0];
      std::string why;
      if (!constEval(bound, why))
        return error(bound.loc, "the bound of P[...] or E[...] must be a constant number");
      return inside(pe);
    }
    const Expr* b = &body;
    while (b->kind == ExprKind::Quant)
      b = b->args[0].get();
    if (const Expr* n = nested(*b)) error(n->loc, kTop);
  }

  Type quant(ExprPtr& e) {
    scopes_.emplace_back();
    for (const VarDecl* cv : e->quantVars) {
      auto* v = const_cast<VarDecl*>(cv); // owned by the property being checked
      const TypeExpr& te = *v->typeExpr;
      if (v->rangeLo) {
        v->type = Type::real();
        checkRange(*v, "quantified variable");
      } else if (te.name == "bool") {
        v->type = Type::boolean();
      } else {
        auto g = globals_.find(te.name);
        if (g == globals_.end() || g->second->kind != DeclKind::Enum) {
          error(te.loc, "unknown enum '" + te.name +
                            "' (quantify over '[lo, hi]', 'bool' or "
                            "an enum)");
          v->type = Type::error();
        } else {
          v->type = Type::enumeration(static_cast<EnumDecl*>(g->second));
        }
      }
      declare(v);
    }
    Type b = expr(e->args[0]);
    scopes_.pop_back();
    if (!b.isError() && b.kind != TypeKind::Bool)
      error(e->args[0]->loc, std::string("the body of '") + (e->isExists ? "exists" : "forall") +
                                 "' must be bool, got " + b.str());
    return set(e, Type::boolean());
  }

  Type modelQuery(ExprPtr& e) {
    const char* what = e->kind == ExprKind::Always ? "always"
                       : e->kind == ExprKind::Prob ? "P"
                                                   : "E";
    auto g = globals_.find(e->name);
    if (g == globals_.end() || g->second->kind != DeclKind::Module) {
      if (g != globals_.end() && g->second->kind == DeclKind::Network)
        error(e->nameLoc,
              std::string("'") + what + "[...]' needs a module; '" + e->name + "' is a network");
      else
        error(e->nameLoc, "unknown module '" + e->name + "'");
      return set(e, Type::error());
    }
    auto* m = static_cast<ModuleDecl*>(g->second);
    e->callee = m;
    if (e->kind != ExprKind::Always && !m->inputs.empty()) {
      error(e->nameLoc, std::string("'") + what + "[" + m->name +
                            "]' needs a module without inputs; '" + m->name + "' has " +
                            std::to_string(m->inputs.size()));
      return set(e, Type::error());
    }
    // The module's variables, visible inside; one named like an enclosing quantified variable
    // would silently hide it, so that is an error.
    std::unordered_map<std::string, VarDecl*> visible;
    for (VarDecl* v : m->inputs)
      visible.emplace(v->name, v);
    for (VarDecl* v : m->outputs)
      visible.emplace(v->name, v);
    for (auto& v : m->vars)
      if (v->topLevel) visible.emplace(v->name, v.get());
    for (auto& [n, v] : visible)
      if (VarDecl* q = lookupVar(n); q && q->kind == VarKind::Quantified)
        error(q->loc, "quantified variable '" + n + "' is hidden by the variable '" + n +
                          "' of module '" + m->name + "' inside '" + what + "[" + m->name +
                          "]'; rename it");
    scopes_.push_back(std::move(visible));
    Type result = Type::boolean();
    for (size_t i = 0; i < e->args.size(); ++i) {
      Type t = expr(e->args[i]);
      if (t.isError()) {
        result = Type::error();
        continue;
      }
      if (e->kind == ExprKind::Expect) {
        if (!coerce(e->args[i], Type::real())) {
          error(e->args[i]->loc, "'E[...]' needs a number, got " + t.str());
          result = Type::error();
        }
      } else if (t.kind != TypeKind::Bool) {
        error(e->args[i]->loc, std::string("'") + what + "[...]' needs a bool " +
                                   (i == 0 ? "event" : "condition") + ", got " + t.str());
        result = Type::error();
      }
    }
    scopes_.pop_back();
    if (result.isError()) return set(e, result);
    return set(e, e->kind == ExprKind::Always ? Type::boolean() : Type::real());
  }

  // ---- pass 7: tasks -------------------------------------------------------------------------
  // Integers as integers ("100000"); else the shortest text that reads back as `v` ("0.5").
  static std::string num(double v) {
    if (v == std::floor(v) && std::fabs(v) < 1e16) return std::to_string(static_cast<int64_t>(v));
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, ec == std::errc() ? end : buf);
  }

  static std::string joinNames(const std::vector<VarDecl*>& vs, bool withTypes) {
    std::string s;
    for (const VarDecl* v : vs)
      s += (s.empty() ? "" : ", ") + v->name + (withTypes ? ": " + v->type.str() : "");
    return s;
  }

  static int64_t scalarCount(const Type& t) { return t.isArray() ? t.length : 1; }

  // The module a task names (`role`: "inputs" or "label"), or null (reported).
  ModuleDecl* taskModule(const std::string& name, const SourceLoc& loc, const char* role) {
    auto g = globals_.find(name);
    if (g != globals_.end() && g->second->kind == DeclKind::Module)
      return static_cast<ModuleDecl*>(g->second);
    if (g == globals_.end()) {
      std::vector<std::string_view> candidates;
      for (CallableDecl* c : callables_)
        if (c->kind == DeclKind::Module) candidates.push_back(c->name);
      error(loc, "unknown module '" + name + "'" + didYouMean(name, candidates));
    } else {
      error(loc, std::string("a task's ") + role + " must be a module; '" + name + "' is " +
                     (g->second->kind == DeclKind::Network    ? "a network"
                      : g->second->kind == DeclKind::Enum     ? "an enum"
                      : g->second->kind == DeclKind::Property ? "a property"
                                                              : "a task"));
    }
    return nullptr;
  }

  void checkTask(TaskDecl& t) {
    suggestions_ = 0;
    ModuleDecl* M = taskModule(t.inputsName, t.inputsLoc, "inputs");
    bool inputsOk = M != nullptr;
    if (M) {
      if (weighted_.count(M)) {
        error(t.inputsLoc, "module '" + M->name +
                               "' observes, conditions or factors: a task's inputs drawn from it "
                               "would ignore that weight");
        inputsOk = false;
      }
      for (const VarDecl* v : M->inputs)
        inputsOk &= !v->type.isError();
    }
    if (M) checkTaskBox(t, *M);
    if (M && inputsOk) {
      std::set<std::string> boxed;
      for (const TaskBox& b : t.box)
        boxed.insert(b.name);
      for (const VarDecl* v : M->inputs) {
        TypeKind k = v->type.isArray() ? v->type.elem : v->type.kind;
        if ((k == TypeKind::Int || k == TypeKind::Real) && !v->range && !boxed.count(v->name)) {
          error(t.inputsLoc, "input '" + v->name + "' of '" + M->name +
                                 "' has no range: a task's domain must be bounded (declare `" +
                                 v->name + ": " + v->type.str() +
                                 " in [lo, hi]` or add it to the task's box)");
          inputsOk = false;
        }
      }
    }
    if (inputsOk) t.inputs = M;

    ModuleDecl* R = taskModule(t.labelModule, t.labelLoc, "label");
    if (R) {
      bool labelOk = true;
      if (random_.count(R)) {
        error(t.labelLoc, "module '" + R->name +
                              "' is random (it draws, observes, conditions or factors, directly "
                              "or through a call): a task's label must come from a "
                              "deterministic module");
        labelOk = false;
      }
      int k = R->outputIndex(t.labelOutput);
      if (k < 0) {
        error(t.labelOutputLoc, "module '" + R->name + "' has no output '" + t.labelOutput +
                                    "' (outputs: " + joinNames(R->outputs, false) + ")");
        labelOk = false;
      } else {
        const VarDecl* out = R->outputs[static_cast<size_t>(k)];
        if (out->type.isError()) {
          labelOk = false;
        } else if (!out->type.isScalar()) {
          error(t.labelOutputLoc, "label must be a scalar; '" + R->name + "." + out->name +
                                      "' is " + out->type.str());
          labelOk = false;
        } else if (labelOk) {
          t.labelVar = out;
        }
      }
      for (const VarDecl* v : R->inputs)
        labelOk &= !v->type.isError();
      if (labelOk) t.reference = R;
    }
    if (M && inputsOk && t.reference) checkTaskBinding(t, *M, *R);
    if (!t.reference) t.labelVar = nullptr;

    checkTaskNetwork(t);

    std::set<std::string> listed;
    for (size_t i = 0; i < t.propertyNames.size(); ++i) {
      const std::string& n = t.propertyNames[i];
      const SourceLoc& l = t.propertyLocs[i];
      if (!listed.insert(n).second) {
        error(l, "property '" + n + "' is listed twice in task '" + t.name + "'");
        continue;
      }
      auto g = globals_.find(n);
      if (g != globals_.end() && g->second->kind == DeclKind::Property) {
        t.properties.push_back(static_cast<PropertyDecl*>(g->second));
      } else if (g == globals_.end()) {
        std::vector<std::string_view> candidates;
        for (PropertyDecl* p : props_)
          candidates.push_back(p->name);
        error(l, "unknown property '" + n + "'" + didYouMean(n, candidates));
      } else {
        error(l, "'" + n + "' is not a property");
      }
    }
  }

  // The box: distinct names of int / real inputs of M, lo <= hi, inside the declared range.
  void checkTaskBox(const TaskDecl& t, const ModuleDecl& M) {
    std::set<std::string> seen;
    for (const TaskBox& b : t.box) {
      if (!seen.insert(b.name).second) {
        error(b.loc, "duplicate box entry for '" + b.name + "' in task '" + t.name + "'");
        continue;
      }
      const VarDecl* v = nullptr;
      for (const VarDecl* in : M.inputs)
        if (in->name == b.name) v = in;
      if (!v) {
        error(b.loc, "'" + b.name + "' is not an input of module '" + M.name + "' (" +
                         (M.inputs.empty() ? std::string("it has no inputs")
                                           : "inputs: " + joinNames(M.inputs, false)) +
                         ")");
        continue;
      }
      if (v->type.isError()) continue;
      TypeKind k = v->type.isArray() ? v->type.elem : v->type.kind;
      if (k != TypeKind::Int && k != TypeKind::Real) {
        error(b.loc, "input '" + b.name + "' of '" + M.name + "' is " + v->type.str() +
                         "; only int and real inputs can be narrowed by a box");
        continue;
      }
      std::string box = "[" + num(b.lo) + ", " + num(b.hi) + "]";
      if (b.lo > b.hi) {
        error(b.loc,
              "inverted box " + box + " for '" + b.name + "' (lower bound above upper bound)");
        continue;
      }
      if (v->range && (b.lo < v->range->lo || b.hi > v->range->hi)) {
        error(b.loc, "box " + box + " for '" + b.name + "' leaves its declared range [" +
                         num(v->range->lo) + ", " + num(v->range->hi) + "]");
        continue;
      }
      if (k == TypeKind::Int && std::ceil(b.lo) > std::floor(b.hi))
        error(b.loc, "box " + box + " for int input '" + b.name + "' contains no integer");
    }
  }

  // The features of the task (M's inputs, or without inputs M's outputs except the label when
  // R is M) must be non-empty, and bind to R's inputs: each by a feature of the same name and
  // type, or else by position, R's inputs taking as many scalars as the features hold.
  void checkTaskBinding(const TaskDecl& t, const ModuleDecl& M, const ModuleDecl& R) {
    std::vector<const VarDecl*> features;
    if (!M.inputs.empty())
      features.assign(M.inputs.begin(), M.inputs.end());
    else
      for (const VarDecl* o : M.outputs)
        if (!(&R == &M && o == t.labelVar)) features.push_back(o);
    if (features.empty()) {
      error(t.inputsLoc, "module '" + M.name +
                             "' gives no features: it has no inputs, and no outputs besides the "
                             "label");
      return;
    }
    if (&R == &M) return;
    bool allNamed = true;
    for (const VarDecl* in : R.inputs) {
      bool found = false;
      for (const VarDecl* f : features)
        found |= f->name == in->name && f->type == in->type;
      allNamed &= found;
    }
    if (allNamed) return;
    int64_t needed = 0, have = 0;
    std::string featureList;
    for (const VarDecl* in : R.inputs)
      needed += scalarCount(in->type);
    for (const VarDecl* f : features) {
      have += scalarCount(f->type);
      featureList += (featureList.empty() ? "" : ", ") + f->name + ": " + f->type.str();
    }
    if (needed == have) return;
    error(t.labelLoc, "cannot bind the inputs of '" + R.name + "' (" + joinNames(R.inputs, true) +
                          ") to the features of '" + M.name + "' (" + featureList +
                          "): name them alike, or make the counts agree ('" + R.name + "' takes " +
                          std::to_string(needed) + " value" + (needed == 1 ? "" : "s") +
                          ", the features hold " + std::to_string(have) + ")");
  }

  // The options of train(...) / compile(...): known, unique, of the right shape and range.
  void checkTaskNetwork(const TaskDecl& t) {
    using NS = TaskDecl::NetSource;
    if (t.netSource == NS::Onnx || t.netSource == NS::Nnet) {
      if (t.netPath.empty()) error(t.netLoc, "empty network file name");
      return;
    }
    enum class Shape { IntList, Int, Real };
    struct Spec {
      const char* name;
      Shape shape;
      double lo, hi;
      bool loOpen; // lo excluded (> lo)
    };
    constexpr double kInf = std::numeric_limits<double>::infinity();
    constexpr double kMaxInt = 2147483647.0;
    static const std::vector<Spec> kTrain = {
        {"widths", Shape::IntList, 1, 4096, false},
        {"epochs", Shape::Int, 1, 100000, false},
        {"seed", Shape::Int, 0, 9007199254740991.0, false}, // 2^53 - 1: exact as a double
        {"samples", Shape::Int, 10, 10000000, false},
        {"lr", Shape::Real, 0, kInf, true},
        {"batch", Shape::Int, 1, kMaxInt, false},
        {"l1", Shape::Real, 0, kInf, false},
        {"weight_decay", Shape::Real, 0, kInf, false},
        {"patience", Shape::Int, 0, kMaxInt, false},
    };
    static const std::vector<Spec> kCompile = {{"margin", Shape::Real, 0, kInf, true}};
    const std::vector<Spec>& specs = t.netSource == NS::Train ? kTrain : kCompile;
    const std::string form = netSourceName(t.netSource);
    std::string accepted;
    for (const Spec& sp : specs)
      accepted += (accepted.empty() ? "" : ", ") + std::string(sp.name);
    std::set<std::string> seen;
    for (const TaskOption& o : t.netOptions) {
      const std::string what = "option '" + o.name + "' of " + form;
      const Spec* sp = nullptr;
      for (const Spec& c : specs)
        if (o.name == c.name) sp = &c;
      if (!sp) {
        error(o.loc, "unknown option '" + o.name + "' of " + form + " (options: " + accepted + ")");
        continue;
      }
      if (!seen.insert(o.name).second) {
        error(o.loc, "duplicate " + what);
        continue;
      }
      const bool wantsInt = sp->shape != Shape::Real;
      if (sp->shape == Shape::IntList && !o.isList) {
        error(o.loc, what + " takes a list of integers, e.g. " + o.name + " = [16, 16]");
        continue;
      }
      if (sp->shape != Shape::IntList && o.isList) {
        error(o.loc, what + " takes one " + (wantsInt ? "integer" : "number") + ", not a list");
        continue;
      }
      if (sp->shape == Shape::IntList && (o.values.empty() || o.values.size() > 8)) {
        error(o.loc, what + " takes 1 to 8 layer widths, got " + std::to_string(o.values.size()));
        continue;
      }
      for (double v : o.values) {
        if (wantsInt && !o.integral) {
          std::string got;
          for (double x : o.values)
            got += (got.empty() ? "" : ", ") + num(x);
          error(o.loc, what + " takes integers, got " + (o.isList ? "[" + got + "]" : got) +
                           " (write integers without a decimal point)");
          break;
        }
        if (v < sp->lo || (sp->loOpen && v == sp->lo) || v > sp->hi) {
          std::string range = sp->hi == kInf ? (sp->loOpen ? "> " : ">= ") + num(sp->lo)
                                             : "in [" + num(sp->lo) + ", " + num(sp->hi) + "]";
          error(o.loc, what + (o.isList ? ": each value" : std::string()) + " must be " + range +
                           ", got " + num(v));
          break;
        }
      }
    }
  }

  Program& prog_;
  DiagnosticEngine& diags_;
  std::unordered_map<std::string, Decl*> globals_;
  std::unordered_map<std::string, std::vector<std::pair<const EnumDecl*, int64_t>>> bareConstants_;
  std::vector<EnumDecl*> enums_;
  std::vector<CallableDecl*> callables_;
  std::vector<PropertyDecl*> props_;
  std::vector<TaskDecl*> tasks_;
  std::vector<CallEdge> edges_;
  std::set<const CallableDecl*> random_, weighted_; // see classifyModules

  // Per module / property.
  ModuleDecl* mod_ = nullptr;
  const CallableDecl* sizeOwner_ = nullptr; // whose int inputs may give sizes (resolveType)
  const DataSizes* sizes_ = nullptr;        // the run's data, if any
  std::set<std::pair<const CallableDecl*, std::string>> sizeFailed_; // sizes already reported
  bool sizeWhyShown_ = false; // dataSize's last failure had been reported before
  std::deque<DataValue> rangeSizes_; // sizes fixed by a one-value range (stable addresses)
  std::vector<std::unordered_map<std::string, VarDecl*>> scopes_;
  std::vector<AState> states_, loopBefore_;
  std::vector<const Stmt*> loops_;
  __int128 outerTrips_ = 1; // product of the trip counts of the enclosing loops (<= the cap)
  static std::string str128(__int128 v) { // decimal of a non-negative 128-bit count
    std::string r;
    do {
      r.insert(r.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
      v /= 10;
    } while (v > 0);
    return r;
  }
  std::set<std::string> reportedUndefined_, reportedRead_;
  bool partialRead_ = false;
  std::set<const PropertyDecl*> badProps_; // properties with errors (no further checks)
  bool badTarget_ = false;                 // an assignment to an undefined name in this module
  int suggestions_ = 0;                    // "did you mean" searches done in this module / property
};

} // namespace

void checkProgram(Program& program, DiagnosticEngine& diags, const DataSizes* sizes) {
  Checker(program, diags, sizes).run();
}

} // namespace chassis::spec
