// The Python module `chassis` (pybind11): the library API the `chassis` command uses, with Python
// values in and out. Every Error of the libraries becomes a `chassis.Error` exception whose text
// is the located diagnostic (`file:line:col: error: ...`); values are converted by their IR type
// (bool, int, float, enum constant names as str; arrays as NumPy arrays).
//
//   chassis.load(path) -> Program            load, check and lower a .chs file (networks loaded)
//   Program.modules, Program.properties      names
//   Program.run(module, inputs={}, seed=0)   one run: RunResult (outputs, log_weight, trace)
//   Program.infer(module, inputs={}, method="mh", ...) -> Posterior (draws as NumPy arrays)
//   Program.verify(property=None, ...)       VerifyResult (verdict, counterexample dict, ...)
//   chassis.load_network(path) -> Network    ONNX or NNet; Network.forward(x) on NumPy arrays
//   chassis.verify_vnnlib(net, prop, ...)    VnnResult (verdict "unsat"/"sat"/..., x, y)
//
// The GIL is released while a model runs, infers or is verified.
#include "neural/lower_network.h"
#include "neural/network.h"
#include "neural/nnet.h"
#include "neural/onnx.h"
#include "spec/diagnostics.h"
#include "spec/dist_kind.h"
#include "spec/frontend.h"
#include "spec/ir.h"
#include "spec/lower.h"
#include "spec/rng.h"
#include "spec/vnnlib.h"
#include "symbolic/infer.h"
#include "symbolic/infer_exact.h"
#include "symbolic/infer_lw.h"
#include "symbolic/infer_mh.h"
#include "symbolic/infer_nuts.h"
#include "symbolic/infer_smc.h"
#include "symbolic/interp.h"
#include "verifier/network_verifier.h"
#include "verifier/vnnlib_query.h"
#include "verifier/problem.h"
#include "verifier/properties.h"

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace chassis;

namespace {

/// The exception type chassis.Error (set when the module is initialised).
PyObject* errorType = nullptr;

[[noreturn]] void raise(const std::string& text) {
  PyErr_SetString(errorType, text.c_str());
  throw py::error_already_set();
}
[[noreturn]] void raise(const Error& e) {
  raise(e.str());
}

template <typename T> T take(Expected<T> e) {
  if (!e) raise(e.error());
  return std::move(*e);
}

/// One IR value as a Python object: scalars by kind, arrays as NumPy arrays of the array's shape
/// (enum arrays as lists of names).
py::object valueToPython(const symbolic::Value& v, const ir::Type& t, const ir::Context& ctx) {
  auto scalar = [&](double x) -> py::object {
    switch (t.scalar) {
    case ir::ScalarKind::Bool:
      return py::bool_(x != 0);
    case ir::ScalarKind::Int:
      return py::int_(static_cast<long long>(x));
    case ir::ScalarKind::Enum:
      return py::str(ctx.enums()[size_t(t.enumId)].constants[size_t(x)]);
    default:
      return py::float_(x);
    }
  };
  if (!t.isArray()) return scalar(v.s);
  std::vector<py::ssize_t> shape(t.dims.begin(), t.dims.end());
  switch (t.scalar) {
  case ir::ScalarKind::Bool: {
    py::array_t<bool> a(shape);
    bool* p = a.mutable_data();
    for (size_t i = 0; i < v.a.size(); ++i)
      p[i] = v.a[i] != 0;
    return a;
  }
  case ir::ScalarKind::Int: {
    py::array_t<int64_t> a(shape);
    int64_t* p = a.mutable_data();
    for (size_t i = 0; i < v.a.size(); ++i)
      p[i] = static_cast<int64_t>(v.a[i]);
    return a;
  }
  case ir::ScalarKind::Enum: {
    py::list names;
    for (double x : v.a)
      names.append(scalar(x));
    return names;
  }
  default: {
    py::array_t<double> a(shape);
    std::copy(v.a.begin(), v.a.end(), a.mutable_data());
    return a;
  }
  }
}

/// A counterexample value as the verifier prints it ("1", "true", "[1, 2]", an enum name), as
/// the Python value it denotes (by JSON syntax), or the text itself when it is not JSON.
py::object parseShown(const std::string& text) {
  try {
    return py::module_::import("json").attr("loads")(text);
  } catch (const py::error_already_set&) {
    return py::str(text);
  }
}

class Program {
public:
  explicit Program(const std::string& path) : path_(path) {
    spec::DiagnosticEngine diags;
    Expected<spec::Program> ast = spec::loadProgram(path, diags);
    if (!ast) raise(diags.str());
    ir::LowerOptions options;
    options.networkLoader = neural::networkLoader();
    Expected<ir::Program> lowered = ir::lower(*ast, options);
    if (!lowered) {
      diags.report(lowered.error());
      raise(diags.str());
    }
    program_ = std::make_unique<ir::Program>(std::move(*lowered));
  }

  std::vector<std::string> modules() const {
    std::vector<std::string> names;
    for (auto& f : program_->functions())
      if (f->kind() == ir::FunctionKind::Module) names.push_back(f->name());
    return names;
  }
  std::vector<std::string> networks() const {
    std::vector<std::string> names;
    for (auto& f : program_->functions())
      if (f->kind() == ir::FunctionKind::Network) names.push_back(f->name());
    return names;
  }
  std::vector<std::string> properties() const {
    std::vector<std::string> names;
    for (auto& p : program_->properties)
      names.push_back(p.name);
    return names;
  }

  /// The function named `name` (a module or a loaded network) and its inputs bound from `inputs`
  /// by name, with the rules of `chassis run --data` (the dict as JSON: NumPy arrays and scalars
  /// as lists and numbers) plus: a key that names no input is an error; each input range-checked.
  std::pair<const ir::Function*, std::vector<symbolic::Value>> bind(const std::string& name,
                                                                    const py::dict& inputs) const {
    const ir::Function* f = program_->findFunction(name);
    if (!f || f->kind() == ir::FunctionKind::External) {
      std::string names;
      for (const std::string& m : modules())
        names += (names.empty() ? "" : ", ") + m;
      raise(Error("unknown module '" + name + "' in " + path_ +
                  " (available: " + (names.empty() ? "none" : names) + ")"));
    }
    for (auto item : inputs) {
      std::string key = py::str(item.first);
      if (f->inputIndex(key) < 0) {
        std::string names;
        for (auto& p : f->inputs())
          names += (names.empty() ? "" : ", ") + p.var->name();
        raise(Error("unknown input '" + key + "' of module '" + name +
                    "' (inputs: " + (names.empty() ? "none" : names) + ")"));
      }
    }
    py::object json = py::module_::import("json");
    py::object asPlain = py::cpp_function([](py::object o) -> py::object {
      if (py::hasattr(o, "tolist")) return o.attr("tolist")(); // NumPy arrays and scalars
      throw py::type_error("cannot pass a " + std::string(py::str(py::type::of(o).attr("__name__"))) +
                           " as a model input");
    });
    // allow_nan=False: NaN and infinities (which JSON cannot carry) raise ValueError here.
    std::string text =
        py::str(json.attr("dumps")(inputs, py::arg("default") = asPlain, py::arg("allow_nan") = false));
    auto bound = take(symbolic::bindJsonInputs(*f, program_->ctx(), text, "inputs"));
    std::vector<symbolic::Value> values;
    for (size_t k = 0; k < bound.size(); ++k) {
      if (!bound[k])
        raise(Error("missing input '" + f->inputs()[k].var->name() + "' of module '" + name + "'"));
      if (auto why = symbolic::checkInput(*f, k, *bound[k])) raise(Error(*why));
      values.push_back(std::move(*bound[k]));
    }
    return {f, std::move(values)};
  }

  py::dict outputs(const ir::Function& f, const std::vector<symbolic::Value>& values) const {
    py::dict out;
    for (size_t k = 0; k < f.outputs().size(); ++k)
      out[py::str(f.outputs()[k]->name())] =
          valueToPython(values[k], f.outputs()[k]->type(), program_->ctx());
    return out;
  }

  py::dict run(const std::string& module, const py::dict& inputs, uint64_t seed) const {
    auto [f, args] = bind(module, inputs);
    Rng rng(seed);
    Expected<symbolic::RunResult> r = Error("not run");
    {
      py::gil_scoped_release release;
      r = symbolic::run(*f, args, rng);
    }
    if (!r) raise(r.error());
    py::dict result;
    result["outputs"] = outputs(*f, r->outputs);
    result["log_weight"] = r->trace.logWeight();
    result["condition_failed"] = r->trace.conditionFailed;
    py::list trace;
    for (const symbolic::Choice& c : r->trace.choices) {
      py::dict choice;
      choice["address"] = c.address;
      choice["dist"] = std::string(signature(c.dist).name);
      choice["params"] = c.params;
      choice["value"] = c.value;
      choice["log_prob"] = c.logProb;
      trace.append(choice);
    }
    result["trace"] = trace;
    return result;
  }

  py::dict infer(const std::string& module, const py::dict& inputs, const std::string& method,
                 size_t samples, size_t chains, size_t warmup, size_t thin, uint64_t seed,
                 const std::vector<std::string>& query) const {
    auto [f, args] = bind(module, inputs);
    symbolic::InferOptions opt;
    if (method == "exact") opt.method = symbolic::InferMethod::Exact;
    else if (method == "lw") opt.method = symbolic::InferMethod::LW;
    else if (method == "mh") opt.method = symbolic::InferMethod::MH;
    else if (method == "nuts") opt.method = symbolic::InferMethod::NUTS;
    else if (method == "smc") opt.method = symbolic::InferMethod::SMC;
    else raise(Error("unknown method '" + method + "' (expected exact, lw, mh, nuts or smc)"));
    opt.samples = samples;
    opt.chains = chains;
    opt.warmup = warmup;
    opt.thin = thin;
    opt.seed = seed;
    opt.query = query;
    Expected<symbolic::Posterior> post = Error("not run");
    {
      py::gil_scoped_release release;
      switch (opt.method) {
      case symbolic::InferMethod::Exact: post = symbolic::inferExact(*f, args, opt); break;
      case symbolic::InferMethod::LW: post = symbolic::inferLw(*f, args, opt); break;
      case symbolic::InferMethod::MH: post = symbolic::inferMh(*f, args, opt); break;
      case symbolic::InferMethod::SMC: post = symbolic::inferSmc(*f, args, opt); break;
      case symbolic::InferMethod::NUTS: post = symbolic::inferNuts(*f, args, opt, nullptr); break;
      }
    }
    if (!post) raise(post.error());
    py::dict result;
    result["method"] = symbolic::methodName(post->method);
    // draws[name]: (chains, draws) for MCMC, (1, draws) with log_weights for LW/SMC; exact: none.
    py::dict draws;
    for (size_t q = 0; q < post->draws.size() && q < post->quantities.size(); ++q) {
      const auto& byChain = post->draws[q];
      size_t n = byChain.empty() ? 0 : byChain[0].size();
      py::array_t<double> a({py::ssize_t(byChain.size()), py::ssize_t(n)});
      double* p = a.mutable_data();
      for (const auto& chain : byChain) {
        if (chain.size() != n) raise(Error("internal: chains of different lengths"));
        p = std::copy(chain.begin(), chain.end(), p);
      }
      draws[py::str(post->quantities[q].name)] = a;
    }
    result["draws"] = draws;
    result["log_weights"] = post->logWeights.empty()
                                ? py::object(py::none())
                                : py::object(py::array_t<double>(py::ssize_t(post->logWeights.size()),
                                                                 post->logWeights.data()));
    py::dict summary;
    for (const symbolic::QuantitySummary& s : post->summaries) {
      py::dict d;
      d["mean"] = s.mean;
      d["sd"] = s.sd;
      d["q5"] = s.q5;
      d["q50"] = s.q50;
      d["q95"] = s.q95;
      d["rhat"] = s.rhat;
      d["ess_bulk"] = s.essBulk;
      d["ess_tail"] = s.essTail;
      d["mcse"] = s.mcse;
      d["distribution"] = s.distribution;
      summary[py::str(s.name)] = d;
    }
    result["summary"] = summary;
    result["log_evidence"] = post->logEvidence;
    result["accept_rate"] = post->acceptRate;
    result["warnings"] = post->warnings;
    return result;
  }

  /// One property's result, or (property None) every property, assert and range obligation, as
  /// `chassis verify` checks them.
  py::object verify(std::optional<std::string> property, double timeout, bool statistical,
                    uint64_t samples, double confidence, uint64_t seed) const {
    verifier::VerifyOptions opts;
    opts.timeoutSec = timeout;
    opts.statistical = statistical;
    opts.samples = samples;
    opts.confidence = confidence;
    opts.seed = seed;
    if (statistical && !(confidence > 0 && confidence < 1))
      raise(Error("confidence must be in (0, 1)"));
    if (statistical && samples == 0) raise(Error("samples must be positive"));
    if (property) {
      const ir::Property* p = nullptr;
      for (const ir::Property& q : program_->properties)
        if (q.name == *property) p = &q;
      if (!p) raise(Error(SourceLoc{path_, 0, 0}, "no property named '" + *property + "'"));
      verifier::PropertyResult r;
      {
        py::gil_scoped_release release;
        r = verifier::verifyProperty(*program_, *p, opts);
      }
      return resultToPython(r);
    }
    std::vector<verifier::PropertyResult> results;
    {
      py::gil_scoped_release release;
      for (const ir::Property& p : program_->properties)
        results.push_back(verifier::verifyProperty(*program_, p, opts));
      for (auto& r : verifier::verifyAsserts(*program_, opts))
        results.push_back(std::move(r));
      for (auto& r : verifier::verifyRangeObligations(*program_, opts))
        results.push_back(std::move(r));
    }
    py::list out;
    for (const auto& r : results)
      out.append(resultToPython(r));
    return out;
  }

  static py::dict resultToPython(const verifier::PropertyResult& r) {
    py::dict d;
    d["name"] = r.name;
    d["verdict"] = r.statistical ? std::string("statistical")
                                 : std::string(verifier::verdictName(r.verdict));
    d["reason"] = r.reason;
    py::dict cx;
    for (auto& [name, value] : r.counterexample)
      cx[py::str(name)] = parseShown(value);
    d["counterexample"] = cx;
    d["value_at_counterexample"] =
        r.valueAtCounterexample.empty() ? py::object(py::none()) : parseShown(r.valueAtCounterexample);
    d["interval"] = r.isInterval ? py::object(py::make_tuple(r.lo, r.hi)) : py::object(py::none());
    d["method"] = r.method;
    if (r.statistical) {
      py::dict st;
      st["estimate"] = r.stat.estimate;
      st["interval"] = py::make_tuple(r.stat.lo, r.stat.hi);
      st["confidence"] = r.stat.confidence;
      st["samples"] = r.stat.samples;
      st["hits"] = r.stat.hits;
      st["rejected"] = r.stat.rejected;
      st["decision"] = r.stat.decision > 0   ? "likely holds"
                       : r.stat.decision < 0 ? "likely violated"
                                             : "undecided";
      d["statistical"] = st;
    } else {
      d["statistical"] = py::none();
    }
    d["seconds"] = r.seconds;
    return d;
  }

private:
  std::string path_;
  std::unique_ptr<ir::Program> program_;
};

neural::Network loadNetwork(const std::string& path, bool normalised) {
  bool nnet = path.size() >= 5 && path.compare(path.size() - 5, 5, ".nnet") == 0;
  if (nnet)
    return take(neural::loadNNet(path, normalised ? neural::NNetInputs::Normalised
                                                  : neural::NNetInputs::Raw));
  return take(neural::loadOnnx(path));
}

/// Rows of `x` (n x inputSize, or one input as a 1-D array) through the network in float64.
py::object forward(const neural::Network& net, py::array_t<double, py::array::c_style | py::array::forcecast> x) {
  const py::ssize_t in = net.inputSize();
  if (x.ndim() == 1 || x.ndim() == 2) {
    const py::ssize_t rows = x.ndim() == 1 ? 1 : x.shape(0);
    const py::ssize_t cols = x.ndim() == 1 ? x.shape(0) : x.shape(1);
    if (cols == in) {
      Eigen::MatrixXd X(rows, cols);
      for (py::ssize_t i = 0; i < rows; ++i) // c_style: row-major, contiguous
        for (py::ssize_t j = 0; j < cols; ++j)
          X(i, j) = x.data()[i * cols + j];
      Eigen::MatrixXd Y;
      {
        py::gil_scoped_release release;
        Y = net.forward(X);
      }
      if (x.ndim() == 1) return py::cast(Eigen::VectorXd(Y.row(0).transpose()));
      return py::cast(Y);
    }
  }
  std::string shape;
  for (py::ssize_t d = 0; d < x.ndim(); ++d)
    shape += (d ? ", " : "") + std::to_string(x.shape(d));
  raise(Error("forward: expected " + std::to_string(in) + " inputs per row (an array of shape (" +
              std::to_string(in) + ",) or (n, " + std::to_string(in) + ")), got shape (" + shape +
              ")"));
}

py::dict verifyVnnlib(const std::string& networkPath, const std::string& propertyPath,
                      double timeout, int threads, bool naive) {
  if (!(timeout > 0)) raise(Error("timeout must be positive"));
  if (threads < 1 || threads > 64) raise(Error("threads must be in 1..64"));
  neural::Network network = take(neural::loadOnnx(networkPath));
  neural::AffineNet affine = take(neural::toAffineNet(network));
  spec::VnnProperty prop = take(spec::readVnnlib(propertyPath));
  SourceLoc propertyFile;
  propertyFile.file = propertyPath;
  verifier::NetVerifyOptions opt;
  opt.timeoutSec = timeout;
  opt.threads = threads;
  opt.naive = naive;
  Expected<verifier::VerifyResult> res = Error("not run");
  {
    py::gil_scoped_release release;
    res = verifier::verifyNetwork(affine, verifier::toNetworkQuery(prop, propertyFile), opt);
  }
  if (!res) {
    Error e = res.error();
    if (e.loc.file.empty()) e.loc.file = propertyPath;
    raise(e);
  }
  py::dict d;
  d["verdict"] = std::string(verifier::vnncompName(res->verdict));
  if (res->verdict == verifier::Verdict::Violated) {
    d["x"] = py::cast(Eigen::VectorXd(res->x));
    // The counterexample's output through the ONNX graph itself (float64), as `chassis vnnlib`
    // replays it.
    d["y"] = py::cast(Eigen::VectorXd(network.forward(Eigen::MatrixXd(res->x.transpose())).row(0).transpose()));
    d["case"] = res->caseIndex;
  } else {
    d["x"] = py::none();
    d["y"] = py::none();
    d["case"] = py::none();
  }
  d["reason"] = res->reason;
  d["seconds"] = res->seconds;
  d["result"] = verifier::vnncompResult(*res);
  return d;
}

} // namespace

PYBIND11_MODULE(chassis, m) {
  m.doc() = "Chassis: verifiable modular probabilistic programs, networks and their compositions";
  static py::exception<std::runtime_error> error(m, "Error");
  errorType = error.ptr();

  py::class_<Program>(m, "Program", "A checked .chs program lowered to the IR, its networks loaded")
      .def(py::init<const std::string&>(), py::arg("path"))
      .def_property_readonly("modules", &Program::modules)
      .def_property_readonly("networks", &Program::networks)
      .def_property_readonly("properties", &Program::properties)
      .def("run", &Program::run, py::arg("module"), py::arg("inputs") = py::dict(),
           py::arg("seed") = 0,
           "Runs a module (or network) once: {'outputs', 'log_weight', 'condition_failed', "
           "'trace'}")
      .def("infer", &Program::infer, py::arg("module"), py::arg("inputs") = py::dict(),
           py::kw_only(), py::arg("method") = "mh", py::arg("samples") = 1000,
           py::arg("chains") = 4, py::arg("warmup") = 1000, py::arg("thin") = 1,
           py::arg("seed") = 0, py::arg("query") = std::vector<std::string>{},
           "Posterior of a module: {'method', 'draws' (name -> array chains x draws), "
           "'log_weights', 'summary' (name -> mean, sd, q5, q50, q95, rhat, ess_bulk, ess_tail, "
           "mcse, distribution), 'log_evidence', 'accept_rate', 'warnings'}")
      .def("verify", &Program::verify, py::arg("property") = py::none(), py::kw_only(),
           py::arg("timeout") = 60.0, py::arg("statistical") = false,
           py::arg("samples") = 100000, py::arg("confidence") = 0.99, py::arg("seed") = 0,
           "One property's result, or a list of every property, assert and range obligation: "
           "{'name', 'verdict', 'reason', 'counterexample', 'value_at_counterexample', "
           "'interval', 'method', 'statistical', 'seconds'}");
  m.def(
      "load", [](const std::string& path) { return Program(path); }, py::arg("path"),
      "Loads, checks and lowers a .chs file and the networks it declares");

  py::class_<neural::Network>(m, "Network", "A feed-forward network (ONNX or NNet)")
      .def_property_readonly("input_size", &neural::Network::inputSize)
      .def_property_readonly("output_size", &neural::Network::outputSize)
      .def("forward", &forward, py::arg("x"),
           "Outputs in float64 for one input (1-D) or one per row (2-D)")
      .def(
          "save",
          [](const neural::Network& net, const std::string& path) {
            Status st = neural::saveOnnx(net, path);
            if (!st) raise(st.error());
          },
          py::arg("path"), "Writes the network as ONNX");
  m.def("load_network", &loadNetwork, py::arg("path"), py::arg("normalised") = false,
        "Loads an ONNX or (by its .nnet extension) NNet network");
  m.def("verify_vnnlib", &verifyVnnlib, py::arg("network"), py::arg("property"), py::kw_only(),
        py::arg("timeout") = 60.0, py::arg("threads") = 2, py::arg("naive") = false,
        "Decides a VNN-LIB property of an ONNX network: {'verdict' (unsat, sat, timeout, "
        "unknown), 'x', 'y', 'case', 'reason', 'seconds', 'result' (the VNN-COMP text)}");
}
