// `chassis run FILE Module [--input name=value]... [--data file.json] [--seed S] [--json]`:
// loads and checks FILE, lowers it to the IR and runs one module once in the interpreter
// (symbolic/interp.h): random choices drawn from the seeded stream (default seed 0), every output
// printed (arrays as [a, b, ...], enums by constant name, bools as true/false), and the trace's
// log weight when the module observes, factors or conditions.
//
// Inputs: `--input x=1.5`, arrays `--input y=[1,2,3]`, bools true/false, enums by constant name;
// `--data file.json` binds the object's keys to inputs of the same name (keys that name no input
// are ignored: data files often carry sizes such as J); --input wins over --data.
// Exit codes: 0 success; 2 bad input (front-end diagnostics, unknown module, missing / unknown /
// ill-typed / out-of-range input, malformed JSON with its line and column); 1 a run-time failure
// (assert, invalid distribution parameter, ...), printed as file:line:col with the source line.
// --json prints {"module", "seed", "outputs", "log_weight", "condition_failed", "trace"}.
// --backend=jit runs a deterministic module compiled by LLVM's ORC LLJIT (codegen/codegen.h)
// instead of the interpreter: the same outputs; a run-time failure is reported by its kind (the
// compiled code returns an error code, not a message); --json then has only module/seed/outputs.
#include "tools/command.h"
#include "tools/model_input.h"

#include "codegen/codegen.h"
#include "spec/diagnostics.h"
#include "symbolic/interp.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <iostream>

namespace {

using namespace chassis;
using ojson = nlohmann::ordered_json; // output keeps insertion order

ojson toJson(const symbolic::Value& v, const ir::Type& t, const ir::Context& ctx) {
  auto scalar = [&](double x) -> ojson {
    switch (t.scalar) {
    case ir::ScalarKind::Bool:
      return x != 0;
    case ir::ScalarKind::Int:
      return int64_t(x);
    case ir::ScalarKind::Enum:
      return ctx.enums()[t.enumId].constants[size_t(x)];
    default:
      return std::isfinite(x) ? ojson(x) : ojson(nullptr);
    }
  };
  if (!t.isArray()) return scalar(v.s);
  ojson arr = ojson::array();
  for (double x : v.a)
    arr.push_back(scalar(x)); // the language's arrays are 1-D
  return arr;
}

ojson number(double x) {
  return std::isfinite(x) ? ojson(x) : ojson(nullptr);
}

/// --backend=jit: the module compiled by ORC LLJIT (codegen/codegen.h; deterministic modules
/// only) and run once; a non-zero status is a run-time failure named by its code.
template <typename Fail>
int runJit(const ir::Function& f, const ir::Context& ctx, const std::vector<symbolic::Value>& args,
           uint64_t seed, bool asJson, const std::string& module, Fail& fail) {
  auto jit = codegen::JitFunction::create(f);
  if (!jit) return fail(jit.error(), tools::kUsage);
  std::vector<double> in, out((*jit)->numOutputs());
  for (const symbolic::Value& v : args) {
    if (v.a.empty())
      in.push_back(v.s);
    else
      in.insert(in.end(), v.a.begin(), v.a.end());
  }
  int rc = (**jit)(in.data(), out.data());
  if (rc != codegen::kOk)
    return fail(Error(f.loc(), "run-time error in compiled code: " +
                                   std::string(codegen::errorCodeName(rc)) + " (code " +
                                   std::to_string(rc) + ")"),
                tools::kFailure);
  std::vector<symbolic::Value> values;
  size_t pos = 0;
  for (const ir::Var* o : f.outputs()) {
    size_t n = o->type().numScalars();
    if (o->type().isArray())
      values.push_back(
          symbolic::Value::array({out.begin() + long(pos), out.begin() + long(pos + n)}));
    else
      values.push_back(symbolic::Value::scalar(out[pos]));
    pos += n;
  }
  if (asJson) {
    ojson j;
    j["module"] = module;
    j["seed"] = seed;
    ojson outs = ojson::object();
    for (size_t k = 0; k < f.outputs().size(); ++k)
      outs[f.outputs()[k]->name()] = toJson(values[k], f.outputs()[k]->type(), ctx);
    j["outputs"] = outs;
    std::cout << j.dump(2) << "\n";
    return tools::kOk;
  }
  std::cout << "seed = " << seed << "\n";
  for (size_t k = 0; k < f.outputs().size(); ++k)
    std::cout << f.outputs()[k]->name() << " = "
              << symbolic::formatValue(values[k], f.outputs()[k]->type(), ctx) << "\n";
  return tools::kOk;
}

int runCommand(const std::string& file, const std::string& module,
               const std::vector<std::string>& inputs, const std::string& dataFile, uint64_t seed,
               bool asJson, const std::string& backend) {
  spec::DiagnosticEngine diags;
  auto fail = [&](const Error& e, int code) {
    diags.report(e);
    diags.print(std::cerr);
    return code;
  };
  tools::LoadedModel model;
  if (int rc = tools::loadModel(file, module, inputs, dataFile, diags, model); rc != tools::kOk)
    return rc;
  const ir::Function* f = model.function;
  const ir::Context& ctx = model.program->ctx();
  std::vector<symbolic::Value>& args = model.inputs;

  if (backend != "interp" && backend != "jit")
    return fail(Error("--backend takes interp or jit, got '" + backend + "'"), tools::kUsage);
  if (backend == "jit") return runJit(*f, ctx, args, seed, asJson, module, fail);

  Rng rng(seed);
  auto r = symbolic::run(*f, args, rng);
  if (!r) return fail(r.error(), tools::kFailure);
  const symbolic::Trace& tr = r->trace;

  if (asJson) {
    ojson out;
    out["module"] = module;
    out["seed"] = seed;
    ojson outs = ojson::object();
    for (size_t k = 0; k < f->outputs().size(); ++k)
      outs[f->outputs()[k]->name()] = toJson(r->outputs[k], f->outputs()[k]->type(), ctx);
    out["outputs"] = outs;
    out["log_weight"] = number(tr.logWeight());
    out["condition_failed"] = tr.conditionFailed;
    ojson trace = ojson::array();
    for (const symbolic::Choice& c : tr.choices) {
      ojson params = ojson::array();
      for (double p : c.params)
        params.push_back(number(p));
      trace.push_back({{"address", c.address},
                       {"dist", std::string(signature(c.dist).name)},
                       {"params", params},
                       {"value", number(c.value)},
                       {"log_prob", number(c.logProb)}});
    }
    out["trace"] = trace;
    std::cout << out.dump(2) << "\n";
    return tools::kOk;
  }
  std::cout << "seed = " << seed << "\n";
  for (size_t k = 0; k < f->outputs().size(); ++k)
    std::cout << f->outputs()[k]->name() << " = "
              << symbolic::formatValue(r->outputs[k], f->outputs()[k]->type(), ctx) << "\n";
  if (f->hasWeight()) {
    std::cout << "log_weight = "
              << (std::isinf(tr.logWeight()) ? std::string("-inf")
                                             : ir::formatReal(tr.logWeight()));
    if (tr.conditionFailed) std::cout << " (a condition failed)";
    std::cout << "\n";
  }
  return tools::kOk;
}

chassis::tools::Registration reg{
    "run", "Run one module of a .chs file once (random choices from --seed)", [](CLI::App& app) {
      struct Opts {
        std::string file, module, data;
        std::vector<std::string> inputs;
        uint64_t seed = 0;
        bool json = false;
        std::string backend = "interp";
      };
      auto o = std::make_shared<Opts>();
      app.add_option("file", o->file, "the .chs file")->required();
      app.add_option("module", o->module, "the module to run")->required();
      app.add_option("--input", o->inputs,
                     "an input: name=value (arrays [1,2,3], bools true/false, enums by name)")
          ->allow_extra_args(false);
      app.add_option("--data", o->data, "a JSON object binding inputs by name");
      app.add_option("--seed", o->seed, "the random seed (default 0)");
      app.add_flag("--json", o->json, "print the result as JSON");
      app.add_option("--backend", o->backend,
                     "interp (default) or jit: the module compiled by LLVM (deterministic only)");
      return [o]() -> int {
        return runCommand(o->file, o->module, o->inputs, o->data, o->seed, o->json, o->backend);
      };
    }};

} // namespace
