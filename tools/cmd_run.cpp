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
// --json prints the report envelope (tools/json_report.h) with results[0] = {"module", "seed",
// "outputs", "log_weight", "condition_failed", "trace"}.
// --replay cex.json [--property NAME] re-runs the module on a counterexample of `chassis verify
// --json` (the envelope, a bare result array, or one result): its inputs (or the quantified
// variables that name inputs) bound by name (--input still wins), its random choices replayed at
// exactly their values, then prints the outputs and the property's condition there. Exit 1 when
// the condition is false there (or, for an assert or range obligation, the run fails), 0 when it
// is not a counterexample, 2 for a file that holds none. --json adds a "replay" object.
// --backend=jit runs the module compiled by LLVM's ORC LLJIT (codegen/codegen.h) instead of the
// interpreter. A deterministic module: the same outputs; a run-time failure is reported by its
// kind (the compiled code returns an error code, not a message); --json then has only
// module/seed/outputs. A random module runs traced (codegen/infer_mh_jit.h's runCompiled): the
// interpreter's output at the seed, trace and errors included (a failing run is re-run by the
// interpreter for its message).
#include "tools/command.h"
#include "tools/json_report.h"
#include "tools/model_input.h"

#include "codegen/codegen.h"
#include "codegen/infer_mh_jit.h"
#include "spec/diagnostics.h"
#include "symbolic/interp.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <unordered_map>

namespace {

using namespace chassis;
using ojson = nlohmann::ordered_json; // output keeps insertion order

ojson toJson(const symbolic::Value& v, const ir::Type& t, const ir::Context& ctx) {
  return tools::valueJson(v, t, ctx);
}

ojson number(double x) {
  return std::isfinite(x) ? ojson(x) : ojson(nullptr);
}

/// --backend=jit: the module compiled by ORC LLJIT (codegen/codegen.h; deterministic modules
/// only) and run once; a non-zero status is a run-time failure, reported as the interpreter
/// reports it.
template <typename Fail>
int runJit(const ir::Function& f, const ir::Context& ctx, const std::vector<symbolic::Value>& args,
           uint64_t seed, bool asJson, const std::string& file, const std::string& module,
           Fail& fail) {
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
    // The interpreter's error for the same inputs: kind, location and text (a matrix index
    // names its row or column), as `run --backend interp` reports it.
    return fail(codegen::compiledRunError(f, args, rc), tools::kFailure);
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
    return tools::printReport("run", file, ojson{{"module", module}, {"backend", "jit"}}, j);
  }
  std::cout << "seed = " << seed << "\n";
  for (size_t k = 0; k < f.outputs().size(); ++k)
    std::cout << f.outputs()[k]->name() << " = "
              << symbolic::formatValue(values[k], f.outputs()[k]->type(), ctx) << "\n";
  return tools::kOk;
}

/// A counterexample read from `chassis verify --json` output (--replay).
struct Replay {
  std::string property;
  std::string module; // the run's module (always, assert, range); empty for a quantified one
  std::vector<std::pair<std::string, std::string>> bindings; // inputs / variables, value text
  std::unordered_map<std::string, double> choices;
  std::string exact; // "x = 1.414...?, ...": values Z3 proved exactly, no float64 numbers
};

/// Reads the counterexample of `property` (or of the only result that has one) from `path`.
Expected<Replay> readReplay(const std::string& path, const std::string& property) {
  SourceLoc at;
  at.file = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(at, "cannot read the counterexample file");
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return Error(at, "not JSON (expected the output of `chassis verify --json`)");
  if (j.is_object() && j.contains("error"))
    return Error(at, "the file is an error report (" + j["error"].dump() + "), not a result");
  nlohmann::json results = j.is_object() && j.contains("results") ? j["results"]
                           : j.is_array()                         ? j
                                                                  : nlohmann::json::array({j});
  if (!results.is_array()) return Error(at, "\"results\" is not an array");
  const nlohmann::json* pick = nullptr;
  std::string withCx;
  for (const nlohmann::json& r : results) {
    if (!r.is_object() || !r.contains("property") || !r["property"].is_string()) continue;
    std::string name = r["property"];
    bool has = r.contains("counterexample") && r["counterexample"].is_object();
    if (!property.empty() && name == property) {
      if (!has)
        return Error(at, "property '" + name + "' has no counterexample here (verdict " +
                             (r.contains("verdict") ? r["verdict"].dump() : "none") + ")");
      pick = &r;
    } else if (property.empty() && has) {
      withCx += (withCx.empty() ? "" : ", ") + name;
      if (pick)
        return Error(at, "several counterexamples (" + withCx + "...): choose one with --property");
      pick = &r;
    }
  }
  if (!pick)
    return Error(at, property.empty() ? std::string("no result with a counterexample")
                                      : "no result for property '" + property + "'");
  const nlohmann::json& cx = (*pick)["counterexample"];
  Replay r;
  r.property = (*pick)["property"];
  if (cx.contains("module") && cx["module"].is_string()) r.module = cx["module"];
  for (const char* key : {"inputs", "vars"})
    if (cx.contains(key) && cx[key].is_object())
      for (auto& [name, v] : cx[key].items()) {
        // A string is an enum constant's name (or a value the verifier could not parse).
        r.bindings.push_back({name, v.is_string() ? v.get<std::string>() : v.dump()});
      }
  if (cx.contains("exact") && cx["exact"].is_object())
    for (auto& [name, v] : cx["exact"].items())
      r.exact += (r.exact.empty() ? "" : ", ") + name + " = " +
                 (v.is_string() ? v.get<std::string>() : v.dump());
  if (cx.contains("choices") && cx["choices"].is_object())
    for (auto& [addr, v] : cx["choices"].items()) {
      if (!v.is_number() && !v.is_boolean())
        return Error(at,
                     "choice '" + addr + "' of '" + r.property + "' is not a number: " + v.dump());
      r.choices[addr] = v.is_boolean() ? double(v.get<bool>()) : v.get<double>();
    }
  return r;
}

struct RunArgs {
  std::string file, module, data, replayFile, property;
  std::vector<std::string> inputs;
  uint64_t seed = 0;
  bool json = false;
  std::string backend = "interp";
};

int runCommand(const RunArgs& a) {
  const std::string& module = a.module;
  uint64_t seed = a.seed;
  bool asJson = a.json;
  const std::string& backend = a.backend;
  spec::DiagnosticEngine diags;
  auto fail = [&](const Error& e, int code) {
    diags.report(e);
    diags.print(std::cerr);
    return code;
  };
  if (!a.property.empty() && a.replayFile.empty())
    return fail(Error("--property names the counterexample to replay: it needs --replay FILE"),
                tools::kUsage);
  std::optional<Replay> replay;
  if (!a.replayFile.empty()) {
    auto r = readReplay(a.replayFile, a.property);
    if (!r) return fail(r.error(), tools::kUsage);
    replay = std::move(*r);
  }
  tools::LoadedModel model;
  if (int rc = tools::loadModel(a.file, module, a.inputs, a.data, diags, model,
                                replay ? replay->bindings
                                       : std::vector<std::pair<std::string, std::string>>{});
      rc != tools::kOk)
    return rc;
  const ir::Function* f = model.function;
  const ir::Context& ctx = model.program->ctx();
  std::vector<symbolic::Value>& args = model.inputs;

  if (backend != "interp" && backend != "jit")
    return fail(Error("--backend takes interp or jit, got '" + backend + "'"), tools::kUsage);
  if (backend == "jit" && replay)
    return fail(Error("--replay runs in the interpreter, not with --backend=jit"), tools::kUsage);
  if (backend == "jit" && !f->isRandom())
    return runJit(*f, ctx, args, seed, asJson, a.file, module, fail);
  // A random module with --backend=jit: compiled, run traced (codegen/infer_mh_jit.h), the
  // interpreter's outputs, trace and errors at the seed.
  std::unique_ptr<codegen::JitModel> compiledModel;
  if (backend == "jit") {
    auto compiled = codegen::JitModel::create(*f, /*lwBlock=*/false);
    if (!compiled) return fail(compiled.error(), tools::kUsage);
    compiledModel = std::move(*compiled);
  }

  // The property whose condition is checked at the replayed point.
  const ir::Property* prop = nullptr;
  if (replay) {
    for (const ir::Property& p : model.program->properties)
      if (p.name == replay->property) prop = &p;
    bool runFailure = !prop && (replay->property.rfind("assert@", 0) == 0 ||
                                replay->property.rfind("range@", 0) == 0);
    if (!prop && !runFailure)
      return fail(Error("no property named '" + replay->property + "' in " + a.file),
                  tools::kUsage);
    if (prop && (prop->kind == ir::PropertyKind::Probability ||
                 prop->kind == ir::PropertyKind::Expectation))
      return fail(Error("property '" + prop->name +
                        "' is a probability or expectation bound: it "
                        "has no counterexample point to replay"),
                  tools::kUsage);
    if (!replay->module.empty() && replay->module != module)
      return fail(Error("the counterexample of '" + replay->property + "' is a run of module '" +
                        replay->module + "', not '" + module + "'"),
                  tools::kUsage);
  }

  Rng rng(seed);
  symbolic::RunOptions ropt;
  if (replay) ropt.replay = &replay->choices;
  auto r = compiledModel ? codegen::runCompiled(*f, args, rng, *compiledModel, ropt)
                 : symbolic::run(*f, args, rng, ropt);
  if (!r) {
    int rc = fail(r.error(), tools::kFailure);
    if (replay && !prop) {
      // An assert's or a range obligation's counterexample: the run fails there, at the place
      // the name gives ("assert@M:line", "range@M:line:col").
      int line = 0, col = 0;
      std::string where = replay->property.substr(replay->property.find(':') + 1);
      std::sscanf(where.c_str(), "%d:%d", &line, &col);
      const SourceLoc& l = r.error().loc;
      bool there = l.line == line && (col == 0 || l.col == col);
      std::string verdict = there ? "the run fails here: violated"
                                  : "the run fails elsewhere (line " + std::to_string(l.line) +
                                        "): not this counterexample";
      if (!asJson)
        std::cout << "property " << replay->property << ": " << verdict << "\n";
      else
        std::cout << tools::jsonText(ojson{{"replay",
                                            {{"property", replay->property},
                                             {"run_error", r.error().str()},
                                             {"violated", there}}}})
                  << "\n";
    }
    return rc;
  }
  const symbolic::Trace& tr = r->trace;

  // The replay's verdict: the property's condition at the point.
  ojson replayJson;
  std::string replayText;
  int code = tools::kOk;
  if (replay) {
    std::vector<std::string> drawn; // choices the counterexample did not give
    for (const symbolic::Choice& c : tr.choices)
      if (!c.replayed) drawn.push_back(c.address);
    std::optional<bool> holds; // the condition's value there
    std::string why;
    if (!prop) {
      holds = true;
      why = "the run completes: the assert or range obligation holds here";
    } else if (prop->kind == ir::PropertyKind::Always) {
      if (prop->module != f)
        return fail(Error("property '" + prop->name + "' is about module '" + prop->module->name() +
                          "', not '" + module + "'"),
                    tools::kUsage);
      auto v = symbolic::evaluate(prop->body, r->frame, prop->loc);
      if (!v) return fail(v.error(), tools::kFailure);
      holds = v->s != 0;
    } else {
      // Forall / exists: the body at the quantified variables' values.
      std::vector<symbolic::Value> frame(size_t(prop->numSlots));
      for (const ir::QuantVar& q : prop->vars) {
        const std::string& name = q.var->name();
        auto it = std::find_if(replay->bindings.begin(), replay->bindings.end(),
                               [&](auto& b) { return b.first == name; });
        if (it == replay->bindings.end())
          return fail(Error(a.replayFile + ": the counterexample does not bind variable '" + name +
                            "' of '" + prop->name + "'"),
                      tools::kUsage);
        auto val = symbolic::parseValue(it->second, q.var->type(), ctx, "variable '" + name + "'");
        if (!val) return fail(val.error(), tools::kUsage);
        frame[size_t(q.var->slot())] = std::move(*val);
      }
      auto v = symbolic::evaluate(prop->body, frame, prop->loc);
      if (!v) return fail(v.error(), tools::kFailure);
      holds = v->s != 0;
    }
    bool existential = prop && prop->kind == ir::PropertyKind::Exists;
    // A forall/always counterexample makes the condition false; an exists property's "witness"
    // makes it true (a violated exists has no point).
    bool violated = existential ? false : !*holds;
    code = violated ? tools::kFailure : tools::kOk;
    replayText = "property " + replay->property + ": " +
                 (prop ? std::string("condition ") + (*holds ? "true" : "false") + " here: " +
                             (existential ? (*holds ? "a witness" : "not a witness")
                                          : (violated ? "violated" : "not a counterexample"))
                       : why);
    if (!replay->exact.empty())
      replayText += "\nnote: the verifier proved the counterexample at an exact point that is no "
                    "float64 number (" +
                    replay->exact + "); this run is at the nearest doubles";
    if (!drawn.empty()) {
      std::string list;
      for (auto& d : drawn)
        list += (list.empty() ? "" : ", ") + d;
      replayText += "\nnote: choices not in the counterexample, drawn from seed " +
                    std::to_string(seed) + ": " + list;
    }
    replayJson["property"] = replay->property;
    replayJson["condition"] = *holds;
    replayJson["violated"] = violated;
    replayJson["exact_point"] = !replay->exact.empty();
    ojson drawnJson = ojson::array();
    for (auto& d : drawn)
      drawnJson.push_back(d);
    replayJson["drawn_choices"] = drawnJson;
  }

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
    if (replay) out["replay"] = replayJson;
    ojson options{{"module", module}, {"seed", seed}, {"backend", backend}};
    if (replay) options["replay"] = a.replayFile;
    return tools::printReport("run", a.file, options, out, code);
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
  if (replay) std::cout << replayText << "\n";
  return code;
}

chassis::tools::Registration reg{
    "run", "Run one module of a .chs file once (random choices from --seed)", [](CLI::App& app) {
      auto o = std::make_shared<RunArgs>();
      app.add_option("file", o->file, "the .chs file")->required();
      app.add_option("module", o->module, "the module to run")->required();
      app.add_option("--input", o->inputs,
                     "an input: name=value (arrays [1,2,3], bools true/false, enums by name)")
          ->allow_extra_args(false);
      app.add_option("--data", o->data, "a JSON object binding inputs by name");
      app.add_option("--seed", o->seed, "the random seed (default 0)");
      app.add_flag("--json", o->json, "print the result as JSON");
      app.add_option("--backend", o->backend,
                     "interp (default) or jit: the module compiled by LLVM (random modules run traced: the interpreter's output at the seed)");
      app.add_option("--replay", o->replayFile,
                     "a `chassis verify --json` output: run on its counterexample (inputs and "
                     "random choices) and check the property's condition there");
      app.add_option("--property", o->property,
                     "--replay: the property whose counterexample to run (default: the only one)");
      return [o]() -> int { return runCommand(*o); };
    }};

} // namespace
