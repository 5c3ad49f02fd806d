// The side-by-side comparison of a task (see compare.h).
#include "tasks/compare.h"

#include "neural/compile_module.h"
#include "neural/lower_network.h"
#include "neural/network.h"
#include "neural/nnet.h"
#include "neural/onnx.h"
#include "neural/train.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "spec/run_control.h"
#include "symbolic/interp.h"
#include "tasks/stand_in.h"
#include "verifier/faithfulness.h"
#include "verifier/properties.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <sstream>

namespace chassis::tasks {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Json num(double x) {
  return std::isfinite(x) ? Json(x) : Json();
}

Json vec(const Eigen::VectorXd& v) {
  Json a = Json::array();
  for (Eigen::Index i = 0; i < v.size(); ++i)
    a.push_back(num(v[i]));
  return a;
}

/// A decision-agreement verdict as the report says it.
const char* agreementVerdict(verifier::Verdict v) {
  return v == verifier::Verdict::Holds ? "holds"
         : v == verifier::Verdict::Violated ? "violated"
                                       : "unknown";
}

/// Announces the next step; every step starts here, so this is also where a stop requested by
/// SIGINT, --time-limit or --memory (spec/run_control.h) ends the comparison (run::Stopped).
void say(const CompareOptions& o, const std::string& line) {
  run::checkStop();
  if (o.progress) *o.progress << "compare: " << line << std::endl;
}

/// The scalar columns one input of R flattens to, with its range and whether it is discrete.
void columnsOf(const ir::Param& p, const ir::Context& cx, std::vector<double>& lo,
               std::vector<double>& hi, std::vector<bool>& discrete) {
  const ir::Type& t = p.var->type();
  const size_t n = t.isArray() ? t.numScalars() : 1;
  const ir::Type s = t.scalarType();
  double a = -std::numeric_limits<double>::infinity(), b = -a;
  if (p.range) {
    a = p.range->first;
    b = p.range->second;
  }
  bool disc = false;
  if (s.scalar == ir::ScalarKind::Bool) {
    a = 0, b = 1, disc = true;
  } else if (s.scalar == ir::ScalarKind::Enum) {
    a = 0, b = double(cx.enums()[s.enumId].constants.size()) - 1, disc = true;
  } else if (s.scalar == ir::ScalarKind::Int) {
    disc = true;
  }
  for (size_t i = 0; i < n; ++i) {
    lo.push_back(a);
    hi.push_back(b);
    discrete.push_back(disc);
  }
}

/// R's input values from one row of feature columns.
std::vector<symbolic::Value> inputValues(const ir::Function& R, const Eigen::RowVectorXd& row) {
  std::vector<symbolic::Value> in;
  Eigen::Index c = 0;
  for (const ir::Param& p : R.inputs()) {
    const ir::Type& t = p.var->type();
    if (!t.isArray()) {
      in.push_back(symbolic::Value::scalar(row[c++]));
      continue;
    }
    std::vector<double> a;
    for (size_t i = 0; i < t.numScalars(); ++i)
      a.push_back(row[c++]);
    in.push_back(symbolic::Value::array(std::move(a)));
  }
  return in;
}

/// Decisions (class indices) of network outputs, one per row: argmax, or the sign of a single
/// output; for regression the value itself.
Eigen::VectorXd decisions(const Eigen::MatrixXd& Y, bool classification) {
  Eigen::VectorXd d(Y.rows());
  for (Eigen::Index i = 0; i < Y.rows(); ++i) {
    if (!classification) {
      d[i] = Y(i, 0);
    } else if (Y.cols() == 1) {
      d[i] = Y(i, 0) > 0 ? 1 : 0;
    } else {
      Eigen::Index k = 0;
      for (Eigen::Index j = 1; j < Y.cols(); ++j)
        if (Y(i, j) > Y(i, k)) k = j;
      d[i] = double(k);
    }
  }
  return d;
}

/// Network outputs on rows of X (AffineNet works on columns).
Eigen::MatrixXd forwardRows(const neural::AffineNet& net, const Eigen::MatrixXd& X) {
  return net.forwardBatch(X.transpose()).transpose();
}

/// Accuracy of decisions against labels (classification), or 1 - normalised MSE is not used:
/// regression reports the MSE (accuracy NaN).
double accuracyOf(const Eigen::VectorXd& dec, const Eigen::VectorXd& y) {
  if (y.size() == 0) return std::nan("");
  long ok = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i)
    ok += dec[i] == y[i];
  return double(ok) / double(y.size());
}

std::string verdictWord(verifier::Verdict v) {
  return std::string(verifier::verdictName(v));
}

Json propertyJson(const verifier::PropertyResult& r) {
  Json j;
  j["verdict"] = verdictWord(r.verdict);
  if (r.isInterval) {
    j["interval"] = {num(r.lo), num(r.hi)};
    if (!r.method.empty()) j["method"] = r.method;
  }
  j["seconds"] = num(r.seconds);
  if (!r.reason.empty()) j["reason"] = r.reason;
  if (!r.counterexample.empty()) {
    Json c = Json::object();
    for (auto& [k, v] : r.counterexample) {
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (end && *end == '\0' && end != v.c_str())
        c[k] = d;
      else
        c[k] = v;
    }
    j["counterexample"] = c;
  }
  return j;
}

const ir::Property* findProperty(const ir::Program& p, const std::string& name) {
  for (const ir::Property& q : p.properties)
    if (q.name == name) return &q;
  return nullptr;
}

std::string joinNames(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i)
    s += (i ? ", " : "") + v[i];
  return s;
}

} // namespace

// ------------------------------------------------------------------------------------------------

Expected<LoadedTask> loadTask(const std::string& file, const std::string& name,
                              spec::DiagnosticEngine& diags) {
  LoadedTask t;
  t.file = file;
  auto ast = spec::loadProgram(file, diags);
  if (!ast) return ast.error();
  t.ast = std::make_unique<spec::Program>(std::move(*ast));
  const SourceLoc fileLoc{file, 0, 0};
  std::vector<std::string> names;
  for (const spec::TaskDecl* d : t.ast->tasks)
    names.push_back(d->name);
  if (name.empty()) {
    if (t.ast->tasks.empty())
      return Error(fileLoc, "no task declared in this file (declare one: `task T { inputs: M; "
                            "label: M.out; network: train(...); }`)");
    if (t.ast->tasks.size() > 1)
      return Error(fileLoc,
                   "several tasks are declared (" + joinNames(names) + "): name one with --task");
    t.decl = t.ast->tasks.front();
  } else {
    t.decl = t.ast->findTask(name);
    if (!t.decl)
      return Error(fileLoc, "no task named '" + name + "'" +
                                (names.empty() ? std::string(" (the file declares none)")
                                               : " (tasks: " + joinNames(names) + ")"));
  }
  ir::LowerOptions lo;
  lo.networkLoader = neural::networkLoader();
  auto prog = ir::lower(*t.ast, lo);
  if (!prog) return prog.error();
  t.program = std::make_unique<ir::Program>(std::move(*prog));
  t.reference = t.program->findFunction(t.decl->labelModule);
  if (!t.reference) return Error(t.decl->labelLoc, "no module '" + t.decl->labelModule + "'");
  t.labelIndex = t.reference->outputIndex(t.decl->labelOutput);
  if (t.labelIndex < 0)
    return Error(t.decl->labelLoc, "module '" + t.decl->labelModule + "' has no output '" +
                                       t.decl->labelOutput + "'");
  const ir::Context& cx = t.program->ctx();
  const ir::Type lt = t.reference->outputs()[size_t(t.labelIndex)]->type();
  if (lt.is(ir::ScalarKind::Bool)) {
    t.numClasses = 2;
    t.classNames = {"false", "true"};
  } else if (lt.is(ir::ScalarKind::Enum)) {
    t.classNames = cx.enums()[lt.enumId].constants;
    t.numClasses = int(t.classNames.size());
  } else if (lt.is(ir::ScalarKind::Real)) {
    t.classification = false;
  } else {
    return Error(t.decl->labelLoc, "label '" + t.decl->labelModule + "." + t.decl->labelOutput +
                                       "' has type " + cx.typeName(lt) +
                                       ": compare takes a bool, enum or real label");
  }
  t.features = featureColumns(*t.reference);
  std::vector<double> lo2, hi2;
  for (const ir::Param& p : t.reference->inputs())
    columnsOf(p, cx, lo2, hi2, t.discrete);
  t.lo = Eigen::Map<Eigen::VectorXd>(lo2.data(), Eigen::Index(lo2.size()));
  t.hi = Eigen::Map<Eigen::VectorXd>(hi2.data(), Eigen::Index(hi2.size()));
  // The task's box narrows the inputs of the same name.
  for (const spec::TaskBox& b : t.decl->box)
    for (size_t c = 0; c < t.features.size(); ++c) {
      const std::string& f = t.features[c];
      if (f == b.name || f.rfind(b.name + "[", 0) == 0) {
        t.lo[Eigen::Index(c)] = std::max(t.lo[Eigen::Index(c)], b.lo);
        t.hi[Eigen::Index(c)] = std::min(t.hi[Eigen::Index(c)], b.hi);
      }
    }
  return t;
}

Expected<TaskDataset> drawTaskData(const LoadedTask& t, int samples, uint64_t seed) {
  TaskOptions o;
  o.inputs = t.decl->inputsName;
  o.label = t.decl->labelModule + "." + t.decl->labelOutput;
  for (const spec::TaskBox& b : t.decl->box) {
    std::ostringstream s;
    s.precision(17);
    s << b.name << "=" << b.lo << ":" << b.hi;
    o.box.push_back(s.str());
  }
  o.samples = samples;
  o.seed = seed;
  bool runtime = false;
  if (t.decl->inputsName != t.decl->labelModule) {
    // Features in the reference module's input order when the input module provides them by name.
    TaskOptions named = o;
    for (const ir::Param& p : t.reference->inputs())
      named.features.push_back(p.var->name());
    auto d = buildTaskDataset(*t.program, t.file, named, runtime);
    if (d) return d;
    if (runtime) return d.error();
  }
  return buildTaskDataset(*t.program, t.file, o, runtime);
}

Expected<ComparisonData> drawComparisonData(const LoadedTask& t, int samples, uint64_t seed) {
  auto discovery = drawTaskData(t, samples, seed * 1000003 + 11);
  if (!discovery) return discovery.error();
  auto evaluation = drawTaskData(t, samples, seed * 1000003 + 23);
  if (!evaluation) return evaluation.error();
  auto patch = drawTaskData(t, samples, seed * 1000003 + 37);
  if (!patch) return patch.error();
  return ComparisonData{std::move(*discovery), std::move(*evaluation), std::move(*patch)};
}

Expected<neural::AffineNet> taskNetwork(const LoadedTask& t, std::ostream* progress,
                                        std::vector<neural::EdgeMask>* groundTruth) {
  const spec::TaskDecl& d = *t.decl;
  using Src = spec::TaskDecl::NetSource;
  switch (d.netSource) {
  case Src::Onnx:
  case Src::Nnet: {
    const std::string path = d.resolvedNetPath.empty() ? d.netPath : d.resolvedNetPath;
    auto net = d.netSource == Src::Onnx ? neural::loadOnnx(path) : neural::loadNNet(path);
    if (!net) {
      Error e = net.error();
      if (e.loc.line == 0) e = Error(d.netLoc, e.message);
      return e;
    }
    auto an = neural::toAffineNet(*net);
    if (!an) return Error(d.netLoc, an.error().message);
    if (an->inputSize != int(t.features.size()))
      return Error(d.netLoc, "the network takes " + std::to_string(an->inputSize) +
                                 " inputs but '" + d.labelModule + "' has " +
                                 std::to_string(t.features.size()) + " (" + joinNames(t.features) +
                                 ")");
    return *an;
  }
  case Src::Train: {
    const int samples = int(d.option("samples", 4000));
    const uint64_t seed = uint64_t(d.option("seed", 1));
    auto data = drawTaskData(t, samples, seed);
    if (!data) return data.error();
    neural::TrainOptions o;
    o.widths.clear();
    for (const spec::TaskOption& op : d.netOptions)
      if (op.name == "widths")
        for (double w : op.values)
          o.widths.push_back(int(w));
    if (o.widths.empty()) o.widths = {16, 16};
    o.epochs = int(d.option("epochs", 50));
    o.seed = seed;
    o.lr = d.option("lr", 3e-3);
    o.batch = int(d.option("batch", 64));
    o.l1 = d.option("l1", 0);
    o.weightDecay = d.option("weight_decay", 0);
    o.patience = int(d.option("patience", 0));
    if (o.patience > 0) o.validationFraction = 0.1;
    o.standardize = true;
    o.loss = t.classification ? neural::LossKind::CrossEntropy : neural::LossKind::Mse;
    if (t.classification) o.numClasses = t.numClasses;
    o.progress = progress;
    auto r = neural::train(data->data, o);
    if (!r) return Error(d.netLoc, "training failed: " + r.error().message);
    neural::AffineNet an;
    an.inputSize = int(data->data.numFeatures());
    for (size_t l = 0; l < r->model.W.size(); ++l) {
      neural::AffineLayer L;
      L.W = r->model.W[l];
      L.b = r->model.b[l];
      L.relu = l + 1 < r->model.W.size();
      an.layers.push_back(std::move(L));
    }
    return an;
  }
  case Src::Compile: {
    neural::CompileOptions co;
    co.margin = d.option("margin", 1e-3);
    auto c = neural::compileModule(*t.program, *t.reference, co);
    if (!c) return c.error();
    // Keep the label's output columns only (a module may have several outputs).
    const ir::Context& cx = t.program->ctx();
    int offset = 0, width = 0;
    for (size_t k = 0; k < t.reference->outputs().size(); ++k) {
      const ir::Type& ty = t.reference->outputs()[k]->type();
      int w = ty.is(ir::ScalarKind::Bool)   ? 2
              : ty.is(ir::ScalarKind::Enum) ? int(cx.enums()[ty.enumId].constants.size())
                                            : int(ty.numScalars());
      if (int(k) == t.labelIndex) width = w;
      if (int(k) < t.labelIndex) offset += w;
    }
    neural::AffineNet net = c->net;
    std::vector<neural::EdgeMask> gt = c->groundTruth;
    if (offset != 0 || width != net.outputSize()) {
      neural::AffineLayer& L = net.layers.back();
      L.W = Eigen::MatrixXd(L.W.middleRows(offset, width));
      L.b = Eigen::VectorXd(L.b.segment(offset, width));
      gt.back() = neural::EdgeMask(gt.back().middleRows(offset, width));
    }
    if (groundTruth) *groundTruth = std::move(gt);
    return net;
  }
  }
  return Error(d.netLoc, "unknown network source");
}

neural::BehaviourData behaviourData(const TaskDataset& d, const TaskDataset& patch,
                                    bool classification) {
  neural::BehaviourData b;
  const Eigen::Index n = std::min(d.data.X.rows(), patch.data.X.rows());
  b.X = d.data.X.topRows(n);
  b.Xpatch = patch.data.X.topRows(n);
  b.classification = classification;
  b.Y = classification ? Eigen::MatrixXd(d.data.y.head(n)) : d.data.targets().topRows(n);
  return b;
}

// ------------------------------------------------------------------------------------------------

Expected<CompareResult> runCompare(const std::string& file, const CompareOptions& o,
                                   spec::DiagnosticEngine& diags) {
  auto lt = loadTask(file, o.task, diags);
  if (!lt) return lt.error();
  LoadedTask& t = *lt;
  const spec::TaskDecl& d = *t.decl;
  CompareResult res;
  res.features = t.features;
  Json& rep = res.report;
  Json timings = Json::object();
  Json notes = Json::array();
  rep["tool"] = "chassis 0.1.0";
  rep["file"] = file;
  rep["task"] = d.name;
  rep["inputs"] = Json::array();
  for (size_t c = 0; c < t.features.size(); ++c)
    rep["inputs"].push_back({{"name", t.features[c]},
                             {"lo", num(t.lo[Eigen::Index(c)])},
                             {"hi", num(t.hi[Eigen::Index(c)])},
                             {"discrete", bool(t.discrete[c])}});
  rep["label"] = {{"module", d.labelModule},
                  {"output", d.labelOutput},
                  {"kind", t.classification ? "class" : "regression"}};
  if (t.classification) rep["label"]["classes"] = t.classNames;

  // ---- data ----
  auto t0 = Clock::now();
  say(o, "drawing data (" + std::to_string(o.samples) + " samples per set)");
  auto sets = drawComparisonData(t, o.samples, o.seed);
  if (!sets) return sets.error();
  const TaskDataset* discovery = &sets->discovery;
  const TaskDataset* evaluation = &sets->evaluation;
  const TaskDataset* patchSet = &sets->patch;
  timings["data"] = secondsSince(t0);
  if (discovery->data.numFeatures() != int(t.features.size()))
    return Error(d.loc, "the task's data has " + std::to_string(discovery->data.numFeatures()) +
                            " features but '" + d.labelModule + "' takes " +
                            std::to_string(t.features.size()));

  // ---- network ----
  t0 = Clock::now();
  say(o, "network: " + std::string(d.netSource == spec::TaskDecl::NetSource::Train ? "training"
                                   : d.netSource == spec::TaskDecl::NetSource::Compile
                                       ? "compiling the reference module"
                                       : "loading"));
  std::vector<neural::EdgeMask> groundTruth;
  auto net = taskNetwork(t, o.progress, &groundTruth);
  if (!net) return net.error();
  res.network = *net;
  const neural::AffineNet& N = res.network;
  timings["network"] = secondsSince(t0);
  const int outs = N.outputSize();
  for (int k = 0; k < outs; ++k)
    res.outputs.push_back(t.classification && outs == t.numClasses ? t.classNames[size_t(k)]
                                                                   : "y" + std::to_string(k));
  {
    std::vector<int> widths{N.inputSize};
    long neurons = 0, edges = 0;
    for (size_t l = 0; l < N.layers.size(); ++l) {
      widths.push_back(int(N.layers[l].W.rows()));
      edges += long(N.layers[l].W.size());
      if (l + 1 < N.layers.size()) neurons += long(N.layers[l].W.rows());
    }
    rep["artefacts"]["network"] = {{"source", spec::netSourceName(d.netSource)},
                                   {"layers", widths},
                                   {"neurons", neurons},
                                   {"edges", edges}};
  }
  rep["artefacts"]["module"] = {{"description", d.labelModule + "." + d.labelOutput}};

  // ---- circuit ----
  t0 = Clock::now();
  say(o, std::string("circuit: ") + neural::methodName(o.method) + ", " +
             neural::ablationName(o.ablation) + " ablation, threshold " +
             std::to_string(o.threshold));
  const neural::BehaviourData bd = behaviourData(*discovery, *patchSet, t.classification);
  const neural::ActivationStats stats = neural::activationStats(N, discovery->data.X);
  res.circuit = neural::discoverCircuit(N, o.method, o.ablation, bd, o.threshold);
  const bool plainCircuit = o.ablation != neural::Ablation::Resample;
  if (plainCircuit) res.circuitNet = neural::materialize(N, res.circuit, stats);
  const neural::CircuitSize cs = neural::circuitSize(N, res.circuit);
  rep["artefacts"]["circuit"] = {{"method", neural::methodName(o.method)},
                                 {"ablation", neural::ablationName(o.ablation)},
                                 {"threshold", o.threshold},
                                 {"neurons", cs.neurons},
                                 {"edges", cs.edges},
                                 {"total_neurons", cs.totalNeurons},
                                 {"total_edges", cs.totalEdges},
                                 {"weight_share", num(cs.weightShare)}};
  if (!groundTruth.empty()) {
    // The compiled network's own circuit against the discovered one: edges of the ground truth
    // kept, edges kept beyond it, and the ROC-AUC of the method's scores (undefined, null, when
    // every edge belongs to the ground truth).
    auto scores = neural::scoreEdges(N, o.method, o.ablation, bd);
    long truth = 0, kept = 0, extra = 0;
    for (size_t l = 0; l < groundTruth.size(); ++l) {
      truth += long(groundTruth[l].count());
      kept += long((groundTruth[l].array() && res.circuit.keep[l].array()).count());
      extra += long((!groundTruth[l].array() && res.circuit.keep[l].array()).count());
    }
    Json& cj = rep["artefacts"]["circuit"];
    cj["ground_truth_edges"] = truth;
    cj["ground_truth_kept"] = kept;
    cj["edges_beyond_ground_truth"] = extra;
    cj["ground_truth_roc_auc"] = num(neural::edgeRocAuc(scores, groundTruth));
  }
  res.circuitDot = neural::circuitDot(N, res.circuit, t.features, res.outputs);
  if (plainCircuit)
    res.circuitChs =
        neural::circuitChs(N, res.circuit, stats, d.name + "_circuit", t.features, res.outputs);
  timings["extract"] = secondsSince(t0);

  // ---- accuracy on held-out data ----
  const Eigen::MatrixXd& Xe = evaluation->data.X;
  const Eigen::MatrixXd& Xp = patchSet->data.X;
  const Eigen::MatrixXd YN = forwardRows(N, Xe);
  const Eigen::MatrixXd YC = plainCircuit ? forwardRows(res.circuitNet, Xe)
                                          : neural::circuitForward(N, res.circuit, stats, Xe, Xp);
  const Eigen::VectorXd decN = decisions(YN, t.classification);
  const Eigen::VectorXd decC = decisions(YC, t.classification);
  Eigen::VectorXd decM(Xe.rows());
  {
    Rng rng(o.seed);
    for (Eigen::Index i = 0; i < Xe.rows(); ++i) {
      auto in = inputValues(*t.reference, Xe.row(i));
      auto r = symbolic::run(*t.reference, in, rng);
      if (!r) return r.error();
      decM[i] = r->outputs[size_t(t.labelIndex)].s;
    }
  }
  const Eigen::VectorXd& ye = evaluation->data.y;
  if (t.classification) {
    rep["accuracy"] = {{"module", num(accuracyOf(decM, ye))},
                       {"network", num(accuracyOf(decN, ye))},
                       {"circuit", num(accuracyOf(decC, ye))},
                       {"samples", Xe.rows()}};
  } else {
    auto mse = [&](const Eigen::VectorXd& v) { return (v - ye).squaredNorm() / double(ye.size()); };
    rep["accuracy"] = {{"module_mse", num(mse(decM))},
                       {"network_mse", num(mse(decN))},
                       {"circuit_mse", num(mse(decC))},
                       {"samples", Xe.rows()}};
  }

  // ---- properties on the three ----
  t0 = Clock::now();
  rep["properties"] = Json::array();
  if (!d.properties.empty()) {
    auto progN = lowerWithStandIn(*t.ast, d.labelModule, d.labelOutput, N);
    if (!progN) return progN.error();
    std::optional<Expected<ir::Program>> progC;
    if (plainCircuit)
      progC.emplace(lowerWithStandIn(*t.ast, d.labelModule, d.labelOutput, res.circuitNet));
    verifier::VerifyOptions vo;
    vo.timeoutSec = o.propertyTimeout;
    for (const spec::PropertyDecl* pd : d.properties) {
      say(o, "property " + pd->name);
      Json pj;
      pj["name"] = pd->name;
      if (const ir::Property* p = findProperty(*t.program, pd->name))
        pj["module"] = propertyJson(verifier::verifyProperty(*t.program, *p, vo));
      if (const ir::Property* p = findProperty(*progN, pd->name))
        pj["network"] = propertyJson(verifier::verifyProperty(*progN, *p, vo));
      if (progC && *progC) {
        if (const ir::Property* p = findProperty(**progC, pd->name))
          pj["circuit"] = propertyJson(verifier::verifyProperty(**progC, *p, vo));
      } else {
        pj["circuit"] = {{"verdict", "unknown"},
                         {"reason", "resample ablation: the circuit depends on a second input"}};
      }
      rep["properties"].push_back(pj);
    }
  }
  timings["properties"] = secondsSince(t0);

  // ---- faithfulness ----
  const neural::BehaviourData evalData = behaviourData(*evaluation, *patchSet, t.classification);
  t0 = Clock::now();
  say(o, "faithfulness");
  Json fj;
  const neural::CircuitMetrics cm = neural::circuitMetrics(N, res.circuit, stats, evalData);
  fj["empirical"] = num(cm.faithfulness);
  fj["completeness"] = num(cm.completeness);
  if (t.classification) fj["agreement"] = num(accuracyOf(decC, decN));
  {
    double worstData = 0;
    for (Eigen::Index i = 0; i < YN.rows(); ++i)
      worstData = std::max(worstData, (YN.row(i) - YC.row(i)).cwiseAbs().maxCoeff());
    fj["data_max_deviation"] = num(worstData);
  }
  bool bounded = true;
  for (Eigen::Index c = 0; c < t.lo.size(); ++c)
    bounded = bounded && std::isfinite(t.lo[c]) && std::isfinite(t.hi[c]);
  bool allDiscrete = std::all_of(t.discrete.begin(), t.discrete.end(), [](bool b) { return b; });
  double points = 1;
  for (Eigen::Index c = 0; c < t.lo.size() && bounded; ++c)
    points *= t.hi[c] - t.lo[c] + 1;
  const bool enumerate = bounded && allDiscrete && points <= 65536;
  verifier::FaithOptions fo;
  fo.timeoutSec = o.faithTimeout;
  fo.seed = o.seed;
  const verifier::Box box{t.lo, t.hi};
  const verifier::DecisionRule rule =
      outs == 1 ? verifier::DecisionRule::Sign : verifier::DecisionRule::Argmax;
  // All points of a small discrete domain, one per row, and the network's outputs there.
  Eigen::MatrixXd grid, gridN;
  if (enumerate) {
    grid = neural::integerGrid(t.lo, t.hi, 65536);
    gridN = forwardRows(N, grid);
  }
  // A point of box x box (resample ablation): the input and the one cut edges are patched from.
  auto pairJson = [&](const Eigen::VectorXd& z) {
    const Eigen::Index n = t.lo.size();
    return Json{{"x", vec(z.head(n))}, {"x_patch", vec(z.tail(n))}};
  };
  // The network engine's analyses of B (the circuit) against A (the network) over `engineBox`:
  // the certified maximum deviation and decision agreement. With `pairs` the inputs are
  // [x; x_patch] (resample ablation) and points are reported as pairs.
  auto engineFaithfulness = [&](const neural::AffineNet& A, const neural::AffineNet& B,
                                const verifier::Box& engineBox, const std::string& method,
                                bool pairs) {
    auto where = [&](const Eigen::VectorXd& z) { return pairs ? pairJson(z) : vec(z); };
    const verifier::DeviationBound db = verifier::certifyMaxDeviation(A, B, engineBox, fo);
    fj["method"] = method;
    fj["certified_max_deviation"] = num(db.certified);
    fj["worst_deviation"] = num(db.worst);
    if (db.worstX.size()) fj[pairs ? "worst_pair" : "worst_point"] = where(db.worstX);
    fj["queries"] = db.queries;
    if (!db.note.empty()) fj["note"] = db.note;
    if (!t.classification) return;
    const verifier::AgreementResult ar =
        verifier::verifyDecisionAgreement(A, B, engineBox, rule, fo);
    Json da;
    da["verdict"] = agreementVerdict(ar.verdict);
    if (ar.verdict == verifier::Verdict::Violated) da[pairs ? "pair" : "point"] = where(ar.x);
    if (!ar.reason.empty()) da["reason"] = ar.reason;
    da["seconds"] = num(ar.seconds);
    fj["decision_agreement"] = da;
  };
  if (!plainCircuit && bounded) {
    // Resample ablation: the circuit is a function of the input and of the input its cut edges
    // are patched from, C(x; x'); the analyses run over box x box against N(x).
    const neural::AffineNet R = verifier::resampleCircuitNetwork(N, res.circuit);
    const neural::AffineNet N2 = verifier::onFirstHalf(N);
    const Eigen::Index n = t.lo.size();
    if (enumerate && points * points <= double(1 << 22)) {
      double worst = -1;
      Eigen::VectorXd worstPair(2 * n), flipPair;
      for (Eigen::Index j = 0; j < grid.rows(); ++j) {
        Eigen::MatrixXd XX(grid.rows(), 2 * n);
        XX.leftCols(n) = grid;
        XX.rightCols(n) = grid.row(j).replicate(grid.rows(), 1);
        const Eigen::MatrixXd YR = forwardRows(R, XX);
        for (Eigen::Index i = 0; i < grid.rows(); ++i) {
          const double dev = (YR.row(i) - gridN.row(i)).cwiseAbs().maxCoeff();
          if (dev > worst) worst = dev, worstPair = XX.row(i).transpose();
        }
        if (t.classification && flipPair.size() == 0) {
          const Eigen::VectorXd a = decisions(gridN, true), b = decisions(YR, true);
          for (Eigen::Index i = 0; i < grid.rows() && flipPair.size() == 0; ++i)
            if (a[i] != b[i]) flipPair = XX.row(i).transpose();
        }
      }
      fj["method"] = "exhaustive: all " + std::to_string(long(points * points)) +
                     " pairs (x, x_patch) of the discrete domain, evaluated in float64";
      fj["certified_max_deviation"] = num(worst);
      fj["worst_deviation"] = num(worst);
      fj["worst_pair"] = pairJson(worstPair);
      if (t.classification) {
        Json da = {{"verdict", flipPair.size() ? "violated" : "holds"}};
        if (flipPair.size()) da["pair"] = pairJson(flipPair);
        fj["decision_agreement"] = da;
      }
    } else {
      engineFaithfulness(N2, R, verifier::pairBox(box),
                         "network engine over box x box (x, and x_patch for the cut edges)", true);
    }
  } else if (!bounded) {
    fj["formal"] = "not available: the task's input box is not bounded";
  } else if (enumerate) {
    const Eigen::MatrixXd& G = grid;
    const Eigen::MatrixXd& GN = gridN;
    const Eigen::MatrixXd GC = forwardRows(res.circuitNet, G);
    Eigen::Index worstRow = 0;
    double worst = -1;
    for (Eigen::Index i = 0; i < G.rows(); ++i) {
      const double dev = (GN.row(i) - GC.row(i)).cwiseAbs().maxCoeff();
      if (dev > worst) worst = dev, worstRow = i;
    }
    fj["method"] = "exhaustive: all " + std::to_string(G.rows()) +
                   " points of the discrete domain, evaluated in float64";
    fj["certified_max_deviation"] = num(worst);
    fj["worst_deviation"] = num(worst);
    fj["worst_point"] = vec(G.row(worstRow).transpose());
    if (t.classification) {
      const Eigen::VectorXd a = decisions(GN, true), b = decisions(GC, true);
      Json da = {{"verdict", "holds"}};
      for (Eigen::Index i = 0; i < G.rows(); ++i)
        if (a[i] != b[i]) {
          da = {{"verdict", "violated"}, {"point", vec(G.row(i).transpose())}};
          break;
        }
      fj["decision_agreement"] = da;
    }
  } else {
    engineFaithfulness(N, res.circuitNet, box,
                       std::string("network engine over the input box") +
                           (allDiscrete || std::any_of(t.discrete.begin(), t.discrete.end(),
                                                       [](bool b) { return b; })
                                ? " (discrete inputs relaxed to reals)"
                                : ""),
                       false);
  }
  fj["seconds"] = secondsSince(t0);
  rep["faithfulness"] = fj;
  timings["faithfulness"] = secondsSince(t0);

  // ---- the leak ----
  t0 = Clock::now();
  say(o, "leak");
  Json lj;
  const std::vector<std::vector<bool>> S = neural::circuitNeurons(N, res.circuit);
  if (plainCircuit) {
    const Eigen::MatrixXd P = verifier::patchedForward(N, S, Xe, Xp);
    const Eigen::MatrixXd pred = forwardRows(res.circuitNet, Xp);
    double sum = 0, mx = 0;
    for (Eigen::Index i = 0; i < P.rows(); ++i) {
      const double dev = (P.row(i) - pred.row(i)).cwiseAbs().maxCoeff();
      sum += dev;
      mx = std::max(mx, dev);
    }
    lj["data_mean"] = num(sum / double(std::max<Eigen::Index>(1, P.rows())));
    lj["data_max"] = num(mx);
    if (t.classification)
      lj["decision_flip_rate"] = num(1.0 - accuracyOf(decisions(P, true), decisions(pred, true)));
    if (bounded && !enumerate) {
      const verifier::DeviationBound lb = verifier::certifyMaxLeak(N, S, res.circuitNet, box, fo);
      lj["certified_max"] = num(lb.certified);
      lj["worst_value"] = num(lb.worst);
      if (lb.worstX.size() == 2 * t.lo.size())
        lj["worst_pair"] = {{"x", vec(lb.worstX.head(t.lo.size()))},
                            {"x_patch", vec(lb.worstX.tail(t.lo.size()))},
                            {"value", num(lb.worst)}};
      if (!lb.note.empty()) lj["note"] = lb.note;
      if (t.classification) {
        const verifier::AgreementResult ar =
            verifier::verifyLeakDecision(N, S, res.circuitNet, box, rule, fo);
        lj["decision"] = {{"verdict", agreementVerdict(ar.verdict)}};
        if (ar.verdict == verifier::Verdict::Violated) lj["decision"]["point"] = vec(ar.x);
      }
    } else if (enumerate && points * points <= 1 << 22) {
      const Eigen::MatrixXd& G = grid;
      double worst = -1;
      Eigen::Index wi = 0, wj = 0;
      long flips = 0;
      const Eigen::MatrixXd predG = forwardRows(res.circuitNet, G);
      for (Eigen::Index j = 0; j < G.rows(); ++j) {
        const Eigen::MatrixXd Xpj = G.row(j).replicate(G.rows(), 1);
        const Eigen::MatrixXd Pj = verifier::patchedForward(N, S, G, Xpj);
        for (Eigen::Index i = 0; i < G.rows(); ++i) {
          const double dev = (Pj.row(i) - predG.row(j)).cwiseAbs().maxCoeff();
          if (dev > worst) worst = dev, wi = i, wj = j;
        }
        if (t.classification) {
          const Eigen::VectorXd a = decisions(Pj, true);
          const Eigen::VectorXd b = decisions(predG.row(j).replicate(G.rows(), 1), true);
          for (Eigen::Index i = 0; i < G.rows(); ++i)
            flips += a[i] != b[i];
        }
      }
      lj["method"] = "exhaustive over all pairs of the discrete domain (float64)";
      lj["certified_max"] = num(worst);
      lj["worst_pair"] = {{"x", vec(G.row(wi).transpose())},
                          {"x_patch", vec(G.row(wj).transpose())},
                          {"value", num(worst)}};
      if (t.classification)
        lj["decision"] = {{"verdict", flips == 0 ? "holds" : "violated"}, {"flipped_pairs", flips}};
    }
  } else {
    lj["note"] = "not computed for resample ablation";
  }
  lj["seconds"] = secondsSince(t0);
  rep["leak"] = lj;
  timings["leak"] = secondsSince(t0);

  // ---- sweep: size against faithfulness for every method ----
  t0 = Clock::now();
  rep["sweep"] = Json::array();
  if (o.sweep) {
    for (neural::DiscoveryMethod m : {neural::DiscoveryMethod::Acdc, neural::DiscoveryMethod::Eap,
                                      neural::DiscoveryMethod::Magnitude}) {
      say(o, std::string("sweep: ") + neural::methodName(m));
      // EAP's and magnitude's circuits are their scores thresholded, so the scores are computed
      // once; ACDC is greedy, and runs again at each threshold.
      const neural::EdgeScores sc = neural::scoreEdges(N, m, o.ablation, bd);
      std::vector<double> thresholds = o.sweepThresholds;
      if (thresholds.empty()) {
        // Quantiles of the method's own edge scores, so the sweep spans the sizes.
        std::vector<double> all;
        for (const Eigen::MatrixXd& s : sc.score)
          for (Eigen::Index i = 0; i < s.size(); ++i)
            all.push_back(s.data()[i]);
        std::sort(all.begin(), all.end());
        for (double keep : {0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0}) {
          const size_t k = size_t(std::floor((1.0 - keep) * double(all.size() - 1)));
          thresholds.push_back(all.empty() ? 0.0 : all[k]);
        }
        std::sort(thresholds.begin(), thresholds.end());
        thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
      }
      for (double tau : thresholds) {
        run::checkStop();
        neural::Circuit c;
        if (m == neural::DiscoveryMethod::Acdc) {
          c = neural::discoverCircuit(N, m, o.ablation, bd, tau);
        } else {
          c.ablation = o.ablation;
          for (const Eigen::MatrixXd& s : sc.score)
            c.keep.push_back((s.array() >= tau).matrix());
        }
        const neural::CircuitSize z = neural::circuitSize(N, c);
        const neural::CircuitMetrics mm = neural::circuitMetrics(N, c, stats, evalData);
        Json sj = {{"method", neural::methodName(m)},
                   {"ablation", neural::ablationName(o.ablation)},
                   {"threshold", num(tau)},
                   {"edges", z.edges},
                   {"neurons", z.neurons},
                   {"weight_share", num(z.weightShare)},
                   {"faithfulness", num(mm.faithfulness)},
                   {"completeness", num(mm.completeness)},
                   {"accuracy", num(mm.accuracy)}};
        if (plainCircuit && bounded) {
          const neural::AffineNet cn = neural::materialize(N, c, stats);
          if (enumerate) {
            sj["certified_max_deviation"] =
                num((gridN - forwardRows(cn, grid)).cwiseAbs().maxCoeff());
          } else {
            verifier::FaithOptions so = fo;
            so.timeoutSec = o.sweepTimeout;
            so.maxQueries = 6;
            const verifier::DeviationBound db = verifier::certifyMaxDeviation(N, cn, box, so);
            sj["certified_max_deviation"] = num(db.certified);
            sj["worst_deviation"] = num(db.worst);
          }
        }
        rep["sweep"].push_back(sj);
      }
    }
  }
  timings["sweep"] = secondsSince(t0);

  // ---- decision regions on a 2-D slice ----
  rep["regions"] = Json::array();
  if (t.classification && bounded) {
    std::vector<Eigen::Index> axes;
    for (Eigen::Index c = 0; c < t.lo.size() && axes.size() < 2; ++c)
      if (!t.discrete[size_t(c)] && t.hi[c] > t.lo[c]) axes.push_back(c);
    if (axes.size() == 2) {
      const int nx = o.regionsNx, ny = o.regionsNy;
      Eigen::MatrixXd G(Eigen::Index(nx) * ny, t.lo.size());
      const Eigen::VectorXd centre = (t.lo + t.hi) / 2;
      for (int iy = 0; iy < ny; ++iy)
        for (int ix = 0; ix < nx; ++ix) {
          Eigen::RowVectorXd row = centre.transpose();
          for (Eigen::Index c = 0; c < t.lo.size(); ++c)
            if (t.discrete[size_t(c)]) row[c] = std::round(centre[c]);
          const Eigen::Index a = axes[0], b = axes[1];
          row[a] = t.lo[a] + (t.hi[a] - t.lo[a]) * (ix + 0.5) / nx;
          row[b] = t.lo[b] + (t.hi[b] - t.lo[b]) * (iy + 0.5) / ny;
          G.row(Eigen::Index(iy) * nx + ix) = row;
        }
      Json mod = Json::array(), nn = Json::array(), cc = Json::array();
      Rng rng(o.seed);
      for (Eigen::Index i = 0; i < G.rows(); ++i) {
        auto r = symbolic::run(*t.reference, inputValues(*t.reference, G.row(i)), rng);
        mod.push_back(r ? Json(int(r->outputs[size_t(t.labelIndex)].s)) : Json());
      }
      const Eigen::VectorXd a = decisions(forwardRows(N, G), true);
      Eigen::MatrixXd Gp(G.rows(), G.cols()); // patch rows for resample ablation, cycled
      for (Eigen::Index i = 0; i < G.rows(); ++i)
        Gp.row(i) = Xp.row(i % Xp.rows());
      const Eigen::VectorXd b =
          decisions(plainCircuit ? forwardRows(res.circuitNet, G)
                                 : neural::circuitForward(N, res.circuit, stats, G, Gp),
                    true);
      for (Eigen::Index i = 0; i < G.rows(); ++i) {
        nn.push_back(int(a[i]));
        cc.push_back(int(b[i]));
      }
      Json fixed = Json::object();
      for (Eigen::Index c = 0; c < t.lo.size(); ++c)
        if (c != axes[0] && c != axes[1]) fixed[t.features[size_t(c)]] = G(0, c);
      rep["regions"].push_back({{"x", t.features[size_t(axes[0])]},
                                {"y", t.features[size_t(axes[1])]},
                                {"x_range", {t.lo[axes[0]], t.hi[axes[0]]}},
                                {"y_range", {t.lo[axes[1]], t.hi[axes[1]]}},
                                {"fixed", fixed},
                                {"nx", nx},
                                {"ny", ny},
                                {"module", mod},
                                {"network", nn},
                                {"circuit", cc}});
    }
  }
  rep["timings"] = timings;
  rep["notes"] = notes;
  return res;
}

} // namespace chassis::tasks
