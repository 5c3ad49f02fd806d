// Tasks (entry checkTasks): the inputs module (deterministic weight, every int / real input
// bounded by a range or the box), the box, the label (a scalar output of a deterministic module
// whose inputs bind to the features), the network clause's options, and the listed properties.
#include "spec/check_context.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

namespace chassis::spec::check {

namespace {

// Integers as integers ("100000"); else the shortest text that reads back as `v` ("0.5").
std::string num(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e16) return std::to_string(static_cast<int64_t>(v));
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ec == std::errc() ? end : buf);
}

std::string joinNames(const std::vector<VarDecl*>& vs, bool withTypes) {
  std::string s;
  for (const VarDecl* v : vs)
    s += (s.empty() ? "" : ", ") + v->name + (withTypes ? ": " + v->type.str() : "");
  return s;
}

int64_t scalarCount(const Type& t) {
  return t.isArray() ? t.length : 1;
}

// The module a task names (`role`: "inputs" or "label"), or null (reported).
ModuleDecl* taskModule(CheckContext& ctx, const std::string& name, const SourceLoc& loc,
                       const char* role) {
  auto g = ctx.globals.find(name);
  if (g != ctx.globals.end() && g->second->kind == DeclKind::Module)
    return static_cast<ModuleDecl*>(g->second);
  if (g == ctx.globals.end()) {
    std::vector<std::string_view> candidates;
    for (CallableDecl* c : ctx.callables)
      if (c->kind == DeclKind::Module) candidates.push_back(c->name);
    ctx.error(loc, "unknown module '" + name + "'" + ctx.didYouMean(name, candidates));
  } else {
    ctx.error(loc, std::string("a task's ") + role + " must be a module; '" + name + "' is " +
                       (g->second->kind == DeclKind::Network    ? "a network"
                        : g->second->kind == DeclKind::Enum     ? "an enum"
                        : g->second->kind == DeclKind::Property ? "a property"
                                                                : "a task"));
  }
  return nullptr;
}

// The box: distinct names of int / real inputs of M, lo <= hi, inside the declared range.
void checkTaskBox(CheckContext& ctx, const TaskDecl& t, const ModuleDecl& M) {
  std::set<std::string> seen;
  for (const TaskBox& b : t.box) {
    if (!seen.insert(b.name).second) {
      ctx.error(b.loc, "duplicate box entry for '" + b.name + "' in task '" + t.name + "'");
      continue;
    }
    const VarDecl* v = nullptr;
    for (const VarDecl* in : M.inputs)
      if (in->name == b.name) v = in;
    if (!v) {
      ctx.error(b.loc, "'" + b.name + "' is not an input of module '" + M.name + "' (" +
                           (M.inputs.empty() ? std::string("it has no inputs")
                                             : "inputs: " + joinNames(M.inputs, false)) +
                           ")");
      continue;
    }
    if (v->type.isError()) continue;
    TypeKind k = v->type.isArray() ? v->type.elem : v->type.kind;
    if (k != TypeKind::Int && k != TypeKind::Real) {
      ctx.error(b.loc, "input '" + b.name + "' of '" + M.name + "' is " + v->type.str() +
                           "; only int and real inputs can be narrowed by a box");
      continue;
    }
    std::string box = "[" + num(b.lo) + ", " + num(b.hi) + "]";
    if (b.lo > b.hi) {
      ctx.error(b.loc,
                "inverted box " + box + " for '" + b.name + "' (lower bound above upper bound)");
      continue;
    }
    if (v->range && (b.lo < v->range->lo || b.hi > v->range->hi)) {
      ctx.error(b.loc, "box " + box + " for '" + b.name + "' leaves its declared range [" +
                           num(v->range->lo) + ", " + num(v->range->hi) + "]");
      continue;
    }
    if (k == TypeKind::Int && std::ceil(b.lo) > std::floor(b.hi))
      ctx.error(b.loc, "box " + box + " for int input '" + b.name + "' contains no integer");
  }
}

// The features of the task (M's inputs, or without inputs M's outputs except the label when
// R is M) must be non-empty, and bind to R's inputs: each by a feature of the same name and
// type, or else by position, R's inputs taking as many scalars as the features hold.
void checkTaskBinding(CheckContext& ctx, const TaskDecl& t, const ModuleDecl& M,
                      const ModuleDecl& R) {
  std::vector<const VarDecl*> features;
  if (!M.inputs.empty())
    features.assign(M.inputs.begin(), M.inputs.end());
  else
    for (const VarDecl* o : M.outputs)
      if (!(&R == &M && o == t.labelVar)) features.push_back(o);
  if (features.empty()) {
    ctx.error(t.inputsLoc, "module '" + M.name +
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
  ctx.error(t.labelLoc, "cannot bind the inputs of '" + R.name + "' (" + joinNames(R.inputs, true) +
                            ") to the features of '" + M.name + "' (" + featureList +
                            "): name them alike, or make the counts agree ('" + R.name +
                            "' takes " + std::to_string(needed) + " value" +
                            (needed == 1 ? "" : "s") + ", the features hold " +
                            std::to_string(have) + ")");
}

// The options of train(...) / compile(...): known, unique, of the right shape and range.
void checkTaskNetwork(CheckContext& ctx, const TaskDecl& t) {
  using NS = TaskDecl::NetSource;
  if (t.netSource == NS::Onnx || t.netSource == NS::Nnet) {
    if (t.netPath.empty()) ctx.error(t.netLoc, "empty network file name");
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
      ctx.error(o.loc,
                "unknown option '" + o.name + "' of " + form + " (options: " + accepted + ")");
      continue;
    }
    if (!seen.insert(o.name).second) {
      ctx.error(o.loc, "duplicate " + what);
      continue;
    }
    const bool wantsInt = sp->shape != Shape::Real;
    if (sp->shape == Shape::IntList && !o.isList) {
      ctx.error(o.loc, what + " takes a list of integers, e.g. " + o.name + " = [16, 16]");
      continue;
    }
    if (sp->shape != Shape::IntList && o.isList) {
      ctx.error(o.loc, what + " takes one " + (wantsInt ? "integer" : "number") + ", not a list");
      continue;
    }
    if (sp->shape == Shape::IntList && (o.values.empty() || o.values.size() > 8)) {
      ctx.error(o.loc, what + " takes 1 to 8 layer widths, got " + std::to_string(o.values.size()));
      continue;
    }
    for (double v : o.values) {
      if (wantsInt && !o.integral) {
        std::string got;
        for (double x : o.values)
          got += (got.empty() ? "" : ", ") + num(x);
        ctx.error(o.loc, what + " takes integers, got " + (o.isList ? "[" + got + "]" : got) +
                             " (write integers without a decimal point)");
        break;
      }
      if (v < sp->lo || (sp->loOpen && v == sp->lo) || v > sp->hi) {
        std::string range = sp->hi == kInf ? (sp->loOpen ? "> " : ">= ") + num(sp->lo)
                                           : "in [" + num(sp->lo) + ", " + num(sp->hi) + "]";
        ctx.error(o.loc, what + (o.isList ? ": each value" : std::string()) + " must be " + range +
                             ", got " + num(v));
        break;
      }
    }
  }
}

void checkTask(CheckContext& ctx, TaskDecl& t) {
  ctx.suggestions = 0;
  ModuleDecl* M = taskModule(ctx, t.inputsName, t.inputsLoc, "inputs");
  bool inputsOk = M != nullptr;
  if (M) {
    if (ctx.weighted.count(M)) {
      ctx.error(t.inputsLoc, "module '" + M->name +
                                 "' observes, conditions or factors: a task's inputs drawn from it "
                                 "would ignore that weight");
      inputsOk = false;
    }
    for (const VarDecl* v : M->inputs)
      inputsOk &= !v->type.isError();
  }
  if (M) checkTaskBox(ctx, t, *M);
  if (M && inputsOk) {
    std::set<std::string> boxed;
    for (const TaskBox& b : t.box)
      boxed.insert(b.name);
    for (const VarDecl* v : M->inputs) {
      TypeKind k = v->type.isArray() ? v->type.elem : v->type.kind;
      if ((k == TypeKind::Int || k == TypeKind::Real) && !v->range && !boxed.count(v->name)) {
        ctx.error(t.inputsLoc, "input '" + v->name + "' of '" + M->name +
                                   "' has no range: a task's domain must be bounded (declare `" +
                                   v->name + ": " + v->type.str() +
                                   " in [lo, hi]` or add it to the task's box)");
        inputsOk = false;
      }
    }
  }
  if (inputsOk) t.inputs = M;

  ModuleDecl* R = taskModule(ctx, t.labelModule, t.labelLoc, "label");
  if (R) {
    bool labelOk = true;
    if (ctx.random.count(R)) {
      ctx.error(t.labelLoc, "module '" + R->name +
                                "' is random (it draws, observes, conditions or factors, directly "
                                "or through a call): a task's label must come from a "
                                "deterministic module");
      labelOk = false;
    }
    int k = R->outputIndex(t.labelOutput);
    if (k < 0) {
      ctx.error(t.labelOutputLoc, "module '" + R->name + "' has no output '" + t.labelOutput +
                                      "' (outputs: " + joinNames(R->outputs, false) + ")");
      labelOk = false;
    } else {
      const VarDecl* out = R->outputs[static_cast<size_t>(k)];
      if (out->type.isError()) {
        labelOk = false;
      } else if (!out->type.isScalar()) {
        ctx.error(t.labelOutputLoc, "label must be a scalar; '" + R->name + "." + out->name +
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
  if (M && inputsOk && t.reference) checkTaskBinding(ctx, t, *M, *R);
  if (!t.reference) t.labelVar = nullptr;

  checkTaskNetwork(ctx, t);

  std::set<std::string> listed;
  for (size_t i = 0; i < t.propertyNames.size(); ++i) {
    const std::string& n = t.propertyNames[i];
    const SourceLoc& l = t.propertyLocs[i];
    if (!listed.insert(n).second) {
      ctx.error(l, "property '" + n + "' is listed twice in task '" + t.name + "'");
      continue;
    }
    auto g = ctx.globals.find(n);
    if (g != ctx.globals.end() && g->second->kind == DeclKind::Property) {
      t.properties.push_back(static_cast<PropertyDecl*>(g->second));
    } else if (g == ctx.globals.end()) {
      std::vector<std::string_view> candidates;
      for (PropertyDecl* p : ctx.props)
        candidates.push_back(p->name);
      ctx.error(l, "unknown property '" + n + "'" + ctx.didYouMean(n, candidates));
    } else {
      ctx.error(l, "'" + n + "' is not a property");
    }
  }
}

} // namespace

void checkTasks(CheckContext& ctx) {
  for (TaskDecl* t : ctx.tasks)
    checkTask(ctx, *t);
}

} // namespace chassis::spec::check
