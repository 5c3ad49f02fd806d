// `chassis infer MODEL [MODULE] [--query A,B] [--evidence X=v ...] [--json]`: exact posterior
// marginals. A .bif Bayesian network is solved by variable elimination (symbolic/ve.h) and each
// query variable's posterior (every variable without --query) is printed with P(evidence).
// .chs models are dispatched to tools/infer_chs.cpp (its options: --method, --samples, ...).
#include "tools/command.h"
#include "tools/json_report.h"
#include "tools/run_limits.h"

#include "symbolic/bif.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

namespace chassis::tools {
/// Defined in tools/infer_chs.cpp: adds the .chs options, returns the .chs runner.
std::function<int(const std::string&, const std::string&, const std::vector<std::string>&,
                  const std::vector<std::string>&, bool)>
addChsInferOptions(CLI::App& app);
} // namespace chassis::tools

namespace {

using namespace chassis;
using namespace chassis::tools;

struct InferOptions {
  std::string model;
  std::string module; // the .chs module to infer (unused for .bif)
  std::vector<std::string> query;
  std::vector<std::string> evidence;
  bool json = false;
  run::Limits limits; // --time-limit/--timeout, --memory: the whole run (tools/run_limits.h)
};

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string joinStates(const std::vector<std::string>& st) {
  std::string s;
  for (size_t i = 0; i < st.size(); ++i)
    s += (i ? ", " : "") + st[i];
  return s;
}

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

std::string general(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", x);
  return buf;
}

int inferBif(const InferOptions& opt) {
  auto net = symbolic::readBifFile(opt.model);
  if (!net) {
    std::cerr << net.error().str() << "\n";
    return kUsage;
  }
  if (!opt.module.empty()) {
    std::cerr << "error: a .bif network has no modules; drop '" << opt.module << "'\n";
    return kUsage;
  }
  std::vector<symbolic::Observation> evidence;
  std::vector<std::pair<std::string, std::string>> evidenceText;
  for (const std::string& e : opt.evidence) {
    const size_t eq = e.find('=');
    if (eq == std::string::npos) {
      std::cerr << "error: --evidence expects VARIABLE=STATE, got '" << e << "'\n";
      return kUsage;
    }
    const std::string var = e.substr(0, eq), state = e.substr(eq + 1);
    const int v = net->find(var);
    if (v < 0) {
      std::cerr << "error: unknown variable '" << var << "' in --evidence\n";
      return kUsage;
    }
    const int s = net->findState(v, state);
    if (s < 0) {
      std::cerr << "error: variable '" << var << "' has no state '" << state
                << "' (its states: " << joinStates(net->vars[v].states) << ")\n";
      return kUsage;
    }
    evidence.push_back({v, s});
    evidenceText.emplace_back(var, state);
  }
  std::vector<symbolic::VarId> query;
  if (opt.query.empty()) {
    for (size_t v = 0; v < net->vars.size(); ++v)
      query.push_back(static_cast<symbolic::VarId>(v));
  } else {
    for (const std::string& q : opt.query) {
      const int v = net->find(q);
      if (v < 0) {
        std::cerr << "error: unknown variable '" << q << "' in --query\n";
        return kUsage;
      }
      query.push_back(v);
    }
  }
  auto res = symbolic::variableElimination(net->toFactorModel(), query, evidence);
  if (!res) {
    std::cerr << "error: " << res.error().message << "\n";
    return kUsage;
  }
  const double pe = std::exp(res->logEvidence);
  if (opt.json) {
    nlohmann::ordered_json j;
    j["network"] = opt.model;
    j["evidence"] = nlohmann::ordered_json::object();
    for (auto& [var, state] : evidenceText)
      j["evidence"][var] = state;
    j["marginals"] = nlohmann::ordered_json::object();
    for (size_t i = 0; i < query.size(); ++i) {
      const auto& v = net->vars[query[i]];
      nlohmann::ordered_json m = nlohmann::ordered_json::object();
      for (size_t s = 0; s < v.states.size(); ++s)
        m[v.states[s]] = res->marginals[i][s];
      j["marginals"][v.name] = m;
    }
    j["P(evidence)"] = pe;
    j["log P(evidence)"] = res->logEvidence;
    printReport("infer", opt.model, nlohmann::ordered_json{{"method", "exact"}}, j);
    return kOk;
  }
  if (!evidenceText.empty()) {
    std::cout << "evidence:";
    for (auto& [var, state] : evidenceText)
      std::cout << " " << var << "=" << state;
    std::cout << "\n";
  }
  std::cout << "P(evidence) = " << general(pe) << "  (log " << general(res->logEvidence)
            << ")\n";
  for (size_t i = 0; i < query.size(); ++i) {
    const auto& v = net->vars[query[i]];
    std::cout << v.name << "\n";
    size_t width = 0;
    for (const std::string& s : v.states)
      width = std::max(width, s.size());
    for (size_t s = 0; s < v.states.size(); ++s)
      std::cout << "  " << v.states[s] << std::string(width - v.states[s].size() + 2, ' ')
                << fixed(res->marginals[i][s], 10) << "\n";
  }
  return kOk;
}


Registration reg{"infer", "Exact posterior marginals of a Bayesian network (.bif) or model",
                 [](CLI::App& app) -> Runner {
                   auto opt = std::make_shared<InferOptions>();
                   app.add_option("model", opt->model, "A .bif network (or a .chs model)")
                       ->required();
                   app.add_option("module", opt->module, "The module to infer (.chs models)");
                   app.add_option("--query", opt->query,
                                  "Variables whose posterior to print (comma-separated; default: "
                                  "all)")
                       ->delimiter(',');
                   app.add_option("--evidence,-e", opt->evidence,
                                  "An observation VARIABLE=STATE (repeatable)");
                   app.add_flag("--json", opt->json, "Print the result as JSON");
                   auto chs = addChsInferOptions(app);
                   addRunLimitOptions(app, opt->limits, true);
                   return [opt, chs]() -> int {
                     return runLimited("infer", opt->limits, [opt, chs]() -> int {
                     if (endsWith(opt->model, ".bif")) return inferBif(*opt);
                     if (endsWith(opt->model, ".chs"))
                       return chs(opt->model, opt->module, opt->query, opt->evidence, opt->json);
                     std::cerr << "error: " << opt->model
                               << ": unknown model format (expected .bif or .chs)\n";
                     return kUsage;
                     });
                   };
                 }};

} // namespace
