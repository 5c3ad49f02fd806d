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
#include "tools/command.h"

#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/interp.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace {

using namespace chassis;
using json = nlohmann::json;
using ojson = nlohmann::ordered_json; // output keeps insertion order

/// A JSON value as the type's Value, or why not. `what` names it in messages ("input 'y'").
Expected<symbolic::Value> fromJson(const json& j, const ir::Type& t, const ir::Context& ctx,
                                   const std::string& what) {
  auto wrong = [&]() -> Expected<symbolic::Value> {
    return Error(what + " should be " + ctx.typeName(t) + ", got " + j.dump());
  };
  if (t.isArray()) {
    if (!j.is_array()) return wrong();
    if (j.size() != size_t(t.length()))
      return Error(what + " should have " + std::to_string(t.length()) + " elements, got " +
                   std::to_string(j.size()));
    std::vector<double> flat;
    for (size_t k = 0; k < j.size(); ++k) {
      auto e = fromJson(j[k], t.element(), ctx, what + "[" + std::to_string(k) + "]");
      if (!e) return e;
      if (e->a.empty())
        flat.push_back(e->s);
      else
        flat.insert(flat.end(), e->a.begin(), e->a.end());
    }
    return symbolic::Value::array(std::move(flat));
  }
  switch (t.scalar) {
  case ir::ScalarKind::Real:
    if (!j.is_number()) return wrong();
    return symbolic::Value::scalar(j.get<double>());
  case ir::ScalarKind::Int: {
    if (!j.is_number()) return wrong();
    double v = j.get<double>();
    if (v != std::floor(v)) return wrong();
    return symbolic::Value::scalar(v);
  }
  case ir::ScalarKind::Bool:
    if (!j.is_boolean()) return wrong();
    return symbolic::Value::scalar(j.get<bool>() ? 1 : 0);
  case ir::ScalarKind::Enum: {
    const ir::EnumDecl& e = ctx.enums()[t.enumId];
    if (j.is_string()) {
      const std::string s = j.get<std::string>();
      for (size_t k = 0; k < e.constants.size(); ++k)
        if (e.constants[k] == s) return symbolic::Value::scalar(double(k));
    }
    std::string list;
    for (size_t k = 0; k < e.constants.size(); ++k) list += (k ? ", " : "") + e.constants[k];
    return Error(what + " should be a constant of enum " + e.name + " (" + list + "), got " +
                 (j.is_string() ? j.get<std::string>() : j.dump()));
  }
  case ir::ScalarKind::Tuple: break;
  }
  return wrong();
}

/// The 1-based line and column of byte offset `pos` in `text`.
SourceLoc locate(const std::string& file, const std::string& text, size_t pos) {
  SourceLoc loc{file, 1, 1};
  for (size_t k = 0; k < pos && k < text.size(); ++k) {
    if (text[k] == '\n') {
      ++loc.line;
      loc.col = 1;
    } else {
      ++loc.col;
    }
  }
  return loc;
}

/// Parses JSON text; a syntax error becomes an Error at its line and column in `file`.
Expected<json> parseJson(const std::string& text, const std::string& file) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // e.byte is the 1-based offset of the character where parsing failed.
    std::string msg = e.what();
    if (auto p = msg.find("syntax error"); p != std::string::npos) msg = msg.substr(p);
    return Error(locate(file, text, e.byte > 0 ? e.byte - 1 : 0), "malformed JSON: " + msg);
  } catch (const json::exception& e) {
    return Error(SourceLoc{file, 0, 0}, std::string("malformed JSON: ") + e.what());
  }
}

ojson toJson(const symbolic::Value& v, const ir::Type& t, const ir::Context& ctx) {
  auto scalar = [&](double x) -> ojson {
    switch (t.scalar) {
    case ir::ScalarKind::Bool: return x != 0;
    case ir::ScalarKind::Int: return int64_t(x);
    case ir::ScalarKind::Enum: return ctx.enums()[t.enumId].constants[size_t(x)];
    default: return std::isfinite(x) ? ojson(x) : ojson(nullptr);
    }
  };
  if (!t.isArray()) return scalar(v.s);
  ojson arr = ojson::array();
  for (double x : v.a) arr.push_back(scalar(x)); // the language's arrays are 1-D
  return arr;
}

ojson number(double x) { return std::isfinite(x) ? ojson(x) : ojson(nullptr); }

int runCommand(const std::string& file, const std::string& module,
               const std::vector<std::string>& inputs, const std::string& dataFile,
               uint64_t seed, bool asJson) {
  spec::DiagnosticEngine diags;
  auto fail = [&](const Error& e, int code) {
    diags.report(e);
    diags.print(std::cerr);
    return code;
  };
  auto ast = spec::loadProgram(file, diags);
  if (!ast) {
    diags.print(std::cerr);
    return tools::kUsage;
  }
  // INTEGRATOR: set options.networkLoader to neural/'s ONNX/NNet loader when it exists.
  ir::LowerOptions options;
  auto prog = ir::lower(*ast, options);
  if (!prog) return fail(prog.error(), tools::kUsage);
  const ir::Context& ctx = prog->ctx();

  const ir::Function* f = prog->findFunction(module);
  if (!f || f->kind() == ir::FunctionKind::External) {
    std::string names;
    for (auto& g : prog->functions())
      if (g->kind() != ir::FunctionKind::External) names += (names.empty() ? "" : ", ") + g->name();
    return fail(Error("unknown module '" + module + "' in " + file + " (available: " +
                      (names.empty() ? "none" : names) + ")"),
                tools::kUsage);
  }

  // Bind inputs: --data first, then --input (which wins).
  std::vector<std::optional<symbolic::Value>> values(f->inputs().size());
  if (!dataFile.empty()) {
    std::ifstream in(dataFile, std::ios::binary);
    if (!in) return fail(Error("cannot read data file '" + dataFile + "'"), tools::kUsage);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    diags.addSource(dataFile, text);
    auto j = parseJson(text, dataFile);
    if (!j) return fail(j.error(), tools::kUsage);
    if (!j->is_object())
      return fail(Error(SourceLoc{dataFile, 0, 0}, "the data file must hold a JSON object"),
                  tools::kUsage);
    for (size_t k = 0; k < f->inputs().size(); ++k) {
      const ir::Var* v = f->inputs()[k].var;
      if (auto it = j->find(v->name()); it != j->end()) {
        auto val = fromJson(*it, v->type(), ctx, "input '" + v->name() + "'");
        if (!val) return fail(Error(SourceLoc{dataFile, 0, 0}, val.error().message), tools::kUsage);
        values[k] = std::move(*val);
      }
    }
  }
  for (const std::string& arg : inputs) {
    auto eq = arg.find('=');
    if (eq == std::string::npos)
      return fail(Error("--input takes name=value, got '" + arg + "'"), tools::kUsage);
    std::string name = arg.substr(0, eq), text = arg.substr(eq + 1);
    int k = f->inputIndex(name);
    if (k < 0) {
      std::string names;
      for (auto& p : f->inputs()) names += (names.empty() ? "" : ", ") + p.var->name();
      return fail(Error("unknown input '" + name + "' of module '" + module + "' (inputs: " +
                        (names.empty() ? "none" : names) + ")"),
                  tools::kUsage);
    }
    // JSON syntax for numbers, bools and arrays; anything else is a bare word (an enum name).
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) j = text;
    const ir::Var* v = f->inputs()[k].var;
    auto val = fromJson(j, v->type(), ctx, "input '" + name + "'");
    if (!val) return fail(val.error(), tools::kUsage);
    values[k] = std::move(*val);
  }
  std::vector<symbolic::Value> args;
  for (size_t k = 0; k < values.size(); ++k) {
    if (!values[k])
      return fail(Error("missing input '" + f->inputs()[k].var->name() + "' of module '" + module +
                        "'"),
                  tools::kUsage);
    if (auto why = symbolic::checkInput(*f, k, *values[k])) return fail(Error(*why), tools::kUsage);
    args.push_back(std::move(*values[k]));
  }

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
      for (double p : c.params) params.push_back(number(p));
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
      return [o]() -> int {
        return runCommand(o->file, o->module, o->inputs, o->data, o->seed, o->json);
      };
    }};

} // namespace
