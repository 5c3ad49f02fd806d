// Datasets from a .chs task (see task_dataset.h): draw inputs, run modules, collect features and
// labels.
#include "tasks/task_dataset.h"

#include "neural/lower_network.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/interp.h"
#include "symbolic/special.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <optional>

namespace chassis::tasks {

namespace {

using symbolic::Value;

constexpr int kMaxSamples = 10'000'000;

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v)
    out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "none" : out;
}

std::vector<std::string> inputNames(const ir::Function& f) {
  std::vector<std::string> out;
  for (const ir::Param& p : f.inputs())
    out.push_back(p.var->name());
  return out;
}

std::vector<std::string> outputNames(const ir::Function& f) {
  std::vector<std::string> out;
  for (const ir::Var* v : f.outputs())
    out.push_back(v->name());
  return out;
}

std::vector<std::string> moduleNames(const ir::Program& p) {
  std::vector<std::string> out;
  for (auto& g : p.functions())
    if (g->kind() != ir::FunctionKind::External) out.push_back(g->name());
  return out;
}

/// A value's scalars, flattened (a scalar is one).
std::vector<double> scalars(const Value& v, const ir::Type& t) {
  return t.isArray() ? v.a : std::vector<double>{v.s};
}

/// Column names of a value of type `t` named `name`: `name`, or `name[0]`, `name[1]`, ...
void columnNames(const std::string& name, const ir::Type& t, std::vector<std::string>& out) {
  if (!t.isArray()) {
    out.push_back(name);
    return;
  }
  for (size_t i = 0; i < t.numScalars(); ++i)
    out.push_back(name + "[" + std::to_string(i) + "]");
}

bool parseDouble(const std::string& s, double& v) {
  const char* b = s.c_str();
  char* e = nullptr;
  errno = 0;
  v = std::strtod(b, &e);
  return e != b && *e == '\0' && errno != ERANGE && std::isfinite(v);
}

/// Where a feature comes from in one sample.
struct FeatureSource {
  enum Kind { Input, Output, Choice } kind;
  int index = 0;    // input or output index
  std::string name; // the name as given (a choice address for Choice)
  ir::Type type;    // Choice: real scalar
};

/// A uniformly random integer in [lo, hi] (lo <= hi).
double uniformInt(Rng& rng, double lo, double hi) {
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  return lo + static_cast<double>(neural::uniformIndex(rng, span));
}

} // namespace

Expected<TaskDataset> buildTaskDataset(const ir::Program& prog, const std::string& file,
                                       const TaskOptions& o, bool& runtimeFailure) {
  runtimeFailure = false;
  const SourceLoc fileLoc{file, 0, 0};
  const ir::Context& ctx = prog.ctx();
  if (o.samples < 1 || o.samples > kMaxSamples)
    return Error("--samples must be in [1, " + std::to_string(kMaxSamples) + "], got " +
                 std::to_string(o.samples));

  // The input module.
  if (o.inputs.empty()) return Error("no input module given (--inputs Module)");
  const ir::Function* M = prog.findFunction(o.inputs);
  if (!M || M->kind() == ir::FunctionKind::External)
    return Error(fileLoc,
                 "no module named '" + o.inputs + "' (modules: " + join(moduleNames(prog)) + ")");
  if (M->hasWeight())
    return Error(M->loc(), "module '" + M->name() +
                               "' observes, conditions or factors: a dataset drawn from it would "
                               "ignore that weight");

  // The label: Module.output | Module | output (of M).
  if (o.label.empty()) return Error("no label given (--label Module.output)");
  const ir::Function* R = nullptr;
  int labelOut = -1;
  {
    const size_t dot = o.label.find('.');
    std::string mod = dot == std::string::npos ? o.label : o.label.substr(0, dot);
    std::string out = dot == std::string::npos ? std::string() : o.label.substr(dot + 1);
    const ir::Function* f = prog.findFunction(mod);
    if (f && f->kind() == ir::FunctionKind::External) f = nullptr;
    if (dot == std::string::npos && !f && M->outputIndex(mod) >= 0) {
      f = M;
      out = mod;
    }
    if (!f)
      return Error(fileLoc,
                   "label '" + o.label + "': no module named '" + mod + "'" +
                       (dot == std::string::npos ? " and no output of '" + M->name() + "' so named"
                                                 : std::string()) +
                       " (modules: " + join(moduleNames(prog)) + ")");
    if (out.empty()) {
      if (f->outputs().size() != 1)
        return Error(f->loc(), "label '" + o.label + "': module '" + f->name() + "' has " +
                                   std::to_string(f->outputs().size()) + " outputs; name one as " +
                                   f->name() + ".output (outputs: " + join(outputNames(*f)) + ")");
      labelOut = 0;
    } else {
      labelOut = f->outputIndex(out);
      if (labelOut < 0)
        return Error(f->loc(), "label '" + o.label + "': module '" + f->name() +
                                   "' has no output '" + out +
                                   "' (outputs: " + join(outputNames(*f)) + ")");
    }
    R = f;
  }
  if (R->hasWeight())
    return Error(R->loc(), "module '" + R->name() +
                               "' observes, conditions or factors: labels drawn from it would "
                               "ignore that weight");
  const ir::Type labelType = R->outputs()[size_t(labelOut)]->type();
  const std::string labelName = R->outputs()[size_t(labelOut)]->name();
  TaskDataset res;
  if (labelType.is(ir::ScalarKind::Bool)) {
    res.kind = LabelKind::Class;
    res.numClasses = 2;
    res.data.classNames = {"false", "true"};
  } else if (labelType.is(ir::ScalarKind::Enum)) {
    res.kind = LabelKind::Class;
    res.data.classNames = ctx.enums()[size_t(labelType.enumId)].constants;
    res.numClasses = static_cast<int>(res.data.classNames.size());
    if (res.numClasses < 2)
      return Error(R->loc(), "label '" + o.label + "': enum with fewer than 2 constants");
  } else if (labelType.isNumeric() || (labelType.isArray() && labelType.dims.size() == 1 &&
                                       labelType.scalar != ir::ScalarKind::Enum &&
                                       labelType.scalar != ir::ScalarKind::Tuple)) {
    res.kind = LabelKind::Regression;
  } else {
    return Error(R->loc(), "label '" + o.label + "' has type " + ctx.typeName(labelType) +
                               "; a label must be a bool, enum, int, real or a 1-D array");
  }

  // The box: declared ranges, overridden by --box name=lo:hi (which must lie inside them).
  std::vector<std::optional<std::pair<double, double>>> box(M->inputs().size());
  for (size_t k = 0; k < M->inputs().size(); ++k)
    box[k] = M->inputs()[k].range;
  for (const std::string& b : o.box) {
    const size_t eq = b.find('='), colon = b.find(':', eq == std::string::npos ? 0 : eq);
    double lo = 0, hi = 0;
    if (eq == std::string::npos || colon == std::string::npos ||
        !parseDouble(b.substr(eq + 1, colon - eq - 1), lo) || !parseDouble(b.substr(colon + 1), hi))
      return Error("--box takes name=lo:hi with finite numbers, got '" + b + "'");
    const std::string name = b.substr(0, eq);
    const int k = M->inputIndex(name);
    if (k < 0)
      return Error(M->loc(), "--box " + b + ": module '" + M->name() + "' has no input '" + name +
                                 "' (inputs: " + join(inputNames(*M)) + ")");
    if (!(lo <= hi)) return Error("--box " + b + ": the lower bound exceeds the upper bound");
    const auto& declared = M->inputs()[size_t(k)].range;
    if (declared && (lo < declared->first || hi > declared->second))
      return Error(M->loc(), "--box " + b + " leaves the declared range [" +
                                 symbolic::formatNumber(declared->first) + ", " +
                                 symbolic::formatNumber(declared->second) + "] of input '" + name +
                                 "'");
    box[size_t(k)] = std::make_pair(lo, hi);
  }
  for (size_t k = 0; k < M->inputs().size(); ++k) {
    const ir::Type& t = M->inputs()[k].var->type();
    const bool needsBox = t.scalar == ir::ScalarKind::Real || t.scalar == ir::ScalarKind::Int;
    if (needsBox && !box[k])
      return Error(M->loc(), "input '" + M->inputs()[k].var->name() + "' of module '" + M->name() +
                                 "' has no range to sample from: declare it as `" +
                                 M->inputs()[k].var->name() + ": real in [a, b]` or give --box " +
                                 M->inputs()[k].var->name() + "=a:b");
    if (t.scalar == ir::ScalarKind::Int && box[k] &&
        std::ceil(box[k]->first) > std::floor(box[k]->second))
      return Error(M->loc(), "input '" + M->inputs()[k].var->name() + "': no integer in its box");
  }

  // The features.
  std::vector<FeatureSource> feats;
  const bool labelFromM = R == M;
  if (o.features.empty()) {
    if (!M->inputs().empty()) {
      for (size_t k = 0; k < M->inputs().size(); ++k)
        feats.push_back(
            {FeatureSource::Input, int(k), M->inputs()[k].var->name(), M->inputs()[k].var->type()});
    } else {
      for (size_t k = 0; k < M->outputs().size(); ++k)
        if (!(labelFromM && int(k) == labelOut))
          feats.push_back(
              {FeatureSource::Output, int(k), M->outputs()[k]->name(), M->outputs()[k]->type()});
    }
  } else {
    for (const std::string& name : o.features) {
      if (int k = M->inputIndex(name); k >= 0)
        feats.push_back({FeatureSource::Input, k, name, M->inputs()[size_t(k)].var->type()});
      else if (int j = M->outputIndex(name); j >= 0)
        feats.push_back({FeatureSource::Output, j, name, M->outputs()[size_t(j)]->type()});
      else if (M->isRandom())
        feats.push_back({FeatureSource::Choice, 0, name, ir::Type::real()});
      else
        return Error(M->loc(),
                     "feature '" + name + "': module '" + M->name() +
                         "' has no input or output so named (inputs: " + join(inputNames(*M)) +
                         "; outputs: " + join(outputNames(*M)) + ")");
      if (labelFromM && feats.back().kind == FeatureSource::Output &&
          feats.back().index == labelOut)
        return Error("feature '" + name + "' is the label itself");
    }
  }
  if (feats.empty())
    return Error(M->loc(), "module '" + M->name() +
                               "' gives no features (no inputs, and no "
                               "outputs besides the label)");
  for (const FeatureSource& f : feats)
    if (f.type.scalar == ir::ScalarKind::Tuple || f.type.dims.size() > 1)
      return Error(M->loc(), "feature '" + f.name + "' has type " + ctx.typeName(f.type) +
                                 "; features must be scalars or 1-D arrays");
  std::vector<std::string> featureNames;
  for (const FeatureSource& f : feats) {
    columnNames(f.name, f.type, featureNames);
    std::optional<std::pair<double, double>> b;
    if (f.kind == FeatureSource::Input) {
      if (f.type.scalar == ir::ScalarKind::Bool)
        b = std::make_pair(0.0, 1.0);
      else if (f.type.scalar == ir::ScalarKind::Enum)
        b = std::make_pair(0.0, double(ctx.enums()[size_t(f.type.enumId)].constants.size()) - 1);
      else
        b = box[size_t(f.index)];
    }
    res.featureBox.resize(featureNames.size(), b);
  }

  // How the label module's inputs are bound: by name from the features, else by position.
  std::vector<int> bindFeature; // R input k <- feature bindFeature[k] (by name), when R != M
  bool positional = false;
  if (!labelFromM) {
    bool allNamed = true;
    for (const ir::Param& p : R->inputs()) {
      int found = -1;
      for (size_t i = 0; i < feats.size(); ++i)
        if (feats[i].name == p.var->name() && feats[i].type == p.var->type()) found = int(i);
      bindFeature.push_back(found);
      allNamed = allNamed && found >= 0;
    }
    if (!allNamed) {
      size_t needed = 0;
      for (const ir::Param& p : R->inputs())
        needed += p.var->type().numScalars();
      if (needed != featureNames.size())
        return Error(R->loc(), "cannot bind the inputs of '" + R->name() + "' (" +
                                   join(inputNames(*R)) + ") to the features (" +
                                   join(featureNames) +
                                   "): name the features like the inputs (--features), or give "
                                   "as many features as the inputs take");
      positional = true;
    }
  }

  // Sampling.
  const bool runM = M->inputs().empty() || labelFromM ||
                    std::any_of(feats.begin(), feats.end(), [](const FeatureSource& f) {
                      return f.kind != FeatureSource::Input;
                    });
  const size_t d = featureNames.size();
  const size_t k = labelType.isArray() ? labelType.numScalars() : 1;
  neural::Dataset& ds = res.data;
  ds.featureNames = featureNames;
  ds.labelName = labelName;
  ds.X.resize(o.samples, static_cast<Eigen::Index>(d));
  ds.y.resize(o.samples);
  if (labelType.isArray()) {
    ds.Y.resize(o.samples, static_cast<Eigen::Index>(k));
    columnNames(labelName, labelType, ds.labelNames);
  }
  Rng rng(o.seed, 11);
  symbolic::RunOptions runOpts;
  std::vector<Value> mIn(M->inputs().size());
  auto located = [&](Error e) {
    runtimeFailure = true;
    return e;
  };
  for (int i = 0; i < o.samples; ++i) {
    for (size_t j = 0; j < M->inputs().size(); ++j) {
      const ir::Type& t = M->inputs()[j].var->type();
      auto draw = [&]() -> double {
        switch (t.scalar) {
        case ir::ScalarKind::Bool:
          return double(neural::uniformIndex(rng, 2));
        case ir::ScalarKind::Enum:
          return double(neural::uniformIndex(rng, ctx.enums()[size_t(t.enumId)].constants.size()));
        case ir::ScalarKind::Int:
          return uniformInt(rng, std::ceil(box[j]->first), std::floor(box[j]->second));
        default: {
          const double lo = box[j]->first, hi = box[j]->second;
          return std::min(hi, lo + (hi - lo) * rng.uniform());
        }
        }
      };
      if (t.isArray()) {
        std::vector<double> a(t.numScalars());
        for (double& x : a)
          x = draw();
        mIn[j] = Value::array(std::move(a));
      } else {
        mIn[j] = Value::scalar(draw());
      }
    }
    std::optional<symbolic::RunResult> mRun;
    if (runM) {
      auto r = symbolic::run(*M, mIn, rng, runOpts);
      if (!r) return located(r.error());
      mRun = std::move(*r);
    }
    // Features.
    std::vector<Value> featVals;
    size_t col = 0;
    for (const FeatureSource& f : feats) {
      Value v;
      if (f.kind == FeatureSource::Input) {
        v = mIn[size_t(f.index)];
      } else if (f.kind == FeatureSource::Output) {
        v = mRun->outputs[size_t(f.index)];
      } else {
        const symbolic::Choice* c = mRun->trace.find(f.name);
        if (!c)
          return Error(M->loc(), "feature '" + f.name + "': module '" + M->name() +
                                     "' has no input, output or random choice so named in "
                                     "sample " +
                                     std::to_string(i + 1) + " (inputs: " + join(inputNames(*M)) +
                                     "; outputs: " + join(outputNames(*M)) + ")");
        v = Value::scalar(c->value);
      }
      for (double x : scalars(v, f.type))
        ds.X(i, static_cast<Eigen::Index>(col++)) = x;
      featVals.push_back(std::move(v));
    }
    // Label.
    Value label;
    if (labelFromM) {
      label = mRun->outputs[size_t(labelOut)];
    } else {
      std::vector<Value> rIn;
      size_t pos = 0;
      for (size_t j = 0; j < R->inputs().size(); ++j) {
        const ir::Type& t = R->inputs()[j].var->type();
        if (!positional) {
          rIn.push_back(featVals[size_t(bindFeature[j])]);
          continue;
        }
        std::vector<double> xs(t.numScalars());
        for (double& x : xs)
          x = ds.X(i, static_cast<Eigen::Index>(pos++));
        rIn.push_back(t.isArray() ? Value::array(std::move(xs)) : Value::scalar(xs[0]));
      }
      for (size_t j = 0; j < rIn.size(); ++j)
        if (auto why = symbolic::checkInput(*R, j, rIn[j]))
          return located(Error(R->loc(), "sample " + std::to_string(i + 1) + ": " + *why +
                                             " (features bound to '" + R->name() + "')"));
      auto r = symbolic::run(*R, rIn, rng, runOpts);
      if (!r) return located(r.error());
      label = r->outputs[size_t(labelOut)];
    }
    if (labelType.isArray()) {
      for (size_t c = 0; c < k; ++c)
        ds.Y(i, static_cast<Eigen::Index>(c)) = label.a[c];
      ds.y[i] = label.a.empty() ? 0.0 : label.a[0];
    } else {
      ds.y[i] = label.s;
    }
  }
  return res;
}

LoadStatus loadTaskDataset(const std::string& file, const TaskOptions& opts,
                           spec::DiagnosticEngine& diags, TaskDataset& out) {
  auto fail = [&](const Error& e, LoadStatus code) {
    diags.report(e);
    diags.print(std::cerr);
    return code;
  };
  auto ast = spec::loadProgram(file, diags);
  if (!ast) {
    diags.print(std::cerr);
    return LoadStatus::BadInput;
  }
  ir::LowerOptions lowerOpts;
  lowerOpts.networkLoader = neural::networkLoader();
  auto prog = ir::lower(*ast, lowerOpts);
  if (!prog) return fail(prog.error(), LoadStatus::BadInput);
  bool runtime = false;
  auto ds = buildTaskDataset(*prog, file, opts, runtime);
  if (!ds) return fail(ds.error(), runtime ? LoadStatus::RunFailed : LoadStatus::BadInput);
  out = std::move(*ds);
  return LoadStatus::Ok;
}

} // namespace chassis::tasks
