// Bayesian networks (see bayesnet.h): lookup, conversion to factors, topological order (Kahn's
// algorithm, ties by declaration order) and the .chs writer.
//
// The writer's output, for a variable X with K states and parents P1..Pm (K_j states each):
//
//   enum XState { s0, s1, ... }                     (state names, made .chs identifiers)
//   let X_cpt = [ ...rows * K probabilities... ];  (the CPT, rows as in BnCpt)
//   let X_row = P1_i * stride_1 + ... + Pm_i;      (stride_j = K_{j+1} * ... * K_m)
//   X_i ~ Categorical([X_cpt[X_row * K], ..., X_cpt[X_row * K + K - 1]]);
//   X = if X_i == 0 then XState.s0 else if ... ;   (the output, as the enum)
//
// so each draw is exactly P(X | parents) and the module's distribution over its outputs is the
// network's joint distribution. Root variables draw from a literal array.
#include "symbolic/bayesnet.h"

#include "spec/dist_kind.h"
#include "symbolic/special.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <set>
#include <sstream>

namespace chassis::symbolic {

int BayesNet::find(std::string_view name) const {
  for (size_t i = 0; i < vars.size(); ++i)
    if (vars[i].name == name) return static_cast<int>(i);
  return -1;
}

int BayesNet::findState(int v, std::string_view state) const {
  const auto& st = vars[v].states;
  for (size_t i = 0; i < st.size(); ++i)
    if (st[i] == state) return static_cast<int>(i);
  return -1;
}

FactorModel BayesNet::toFactorModel() const {
  FactorModel m;
  for (const BnVariable& v : vars)
    m.vars.push_back({v.name, static_cast<int>(v.states.size())});
  for (const BnCpt& c : cpts) {
    std::vector<VarId> fv(c.parents.begin(), c.parents.end());
    fv.push_back(c.child);
    std::vector<int> cards;
    for (VarId v : fv)
      cards.push_back(static_cast<int>(vars[v].states.size()));
    auto f = Factor::fromValues(std::move(fv), std::move(cards), c.probs);
    assert(f && "a parsed CPT is a valid factor");
    m.factors.push_back(std::move(*f));
  }
  return m;
}

Expected<std::vector<int>> BayesNet::topologicalOrder() const {
  const size_t n = vars.size();
  std::vector<int> missing(n, 0); // parents not yet placed
  std::vector<std::vector<int>> children(n);
  for (const BnCpt& c : cpts) {
    if (c.child < 0) continue;
    missing[c.child] = static_cast<int>(c.parents.size());
    for (int p : c.parents)
      children[p].push_back(c.child);
  }
  std::set<int> ready; // ordered: the earliest declared first
  for (size_t v = 0; v < n; ++v)
    if (missing[v] == 0) ready.insert(static_cast<int>(v));
  std::vector<int> order;
  while (!ready.empty()) {
    const int v = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(v);
    for (int c : children[v])
      if (--missing[c] == 0) ready.insert(c);
  }
  if (order.size() != n) {
    for (size_t v = 0; v < n; ++v)
      if (missing[v] > 0)
        return Error(vars[v].loc, "the network has a cycle through '" + vars[v].name + "'");
  }
  return order;
}

namespace {

const std::set<std::string>& reserved() {
  static const std::set<std::string> r = [] {
    std::set<std::string> s = {
        "import", "enum",  "module", "network", "property", "let",       "var",    "if",
        "then",   "else",  "for",    "in",      "observe",  "condition", "factor", "assert",
        "true",   "false", "bool",   "int",     "real",     "forall",    "exists", "always",
        "P",      "E",     "onnx",   "nnet",    "min",      "max",       "abs",    "relu",
        "exp",    "log",   "sqrt",   "sigmoid", "tanh",     "sum",       "dot",    "argmax"};
    for (const auto& sig : kDistSignatures)
      s.insert(std::string(sig.name));
    return s;
  }();
  return r;
}

// `raw` made a .chs identifier (invalid characters become '_', a leading digit gets `prefix`,
// reserved words get a trailing '_'), then made unique in `used` by a numeric suffix.
std::string identifier(const std::string& raw, const char* prefix, std::set<std::string>& used) {
  std::string s;
  for (char c : raw)
    s += std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_';
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) s = prefix + s;
  if (reserved().count(s)) s += "_";
  std::string out = s;
  for (int k = 2; used.count(out); ++k)
    out = s + "_" + std::to_string(k);
  used.insert(out);
  return out;
}

std::string realLiteral(double x) {
  std::string s = formatNumber(x);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

} // namespace

Expected<std::string> writeChs(const BayesNet& net, std::string_view moduleName,
                               std::string_view source) {
  auto order = net.topologicalOrder();
  if (!order) return order.error();
  const size_t n = net.vars.size();
  std::set<std::string> used; // one namespace for every generated name, globals and locals
  std::vector<std::string> out(n), idx(n), cpt(n), row(n), enumName(n);
  std::vector<std::vector<std::string>> states(n);
  std::vector<std::string> renamed;
  for (size_t v = 0; v < n; ++v) {
    const std::string& name = net.vars[v].name;
    out[v] = identifier(name, "v", used);
    if (out[v] != name) renamed.push_back("variable " + name + " -> " + out[v]);
    enumName[v] = identifier(out[v] + "State", "v", used);
    idx[v] = identifier(out[v] + "_i", "v", used);
    cpt[v] = identifier(out[v] + "_cpt", "v", used);
    row[v] = identifier(out[v] + "_row", "v", used);
    std::set<std::string> stUsed;
    for (const std::string& s : net.vars[v].states) {
      states[v].push_back(identifier(s, "s", stUsed));
      if (states[v].back() != s)
        renamed.push_back("state " + name + "." + s + " -> " + states[v].back());
    }
  }

  // The module is named last, so a variable keeps its name and the module gives way ("Net").
  std::string module = identifier(std::string(moduleName), "M", used);
  if (module != std::string(moduleName)) {
    used.erase(module);
    std::set<std::string> probe = used;
    if (!probe.count(std::string(moduleName) + "Net"))
      module = identifier(std::string(moduleName) + "Net", "M", used);
    else
      used.insert(module);
  }

  std::ostringstream o;
  o << "// Generated by `chassis import-bif` from " << source << ": the Bayesian network";
  if (!net.name.empty()) o << " '" << net.name << "'";
  o << " as a module.\n"
       "// Each variable X is drawn by Categorical from the row of its conditional probability\n"
       "// table selected by its parents' state indices (X_row, the last parent varying "
       "fastest);\n"
       "// the output X is that draw as a state of the enum XState.\n";
  if (!renamed.empty()) {
    o << "// Renamed to .chs identifiers:\n";
    for (const std::string& r : renamed)
      o << "//   " << r << "\n";
  }
  o << "\n";
  for (size_t v = 0; v < n; ++v) {
    o << "enum " << enumName[v] << " { ";
    for (size_t s = 0; s < states[v].size(); ++s)
      o << (s ? ", " : "") << states[v][s];
    o << " }\n";
  }
  o << "\n/// The joint distribution of the network: every variable, drawn parents first.\n";
  o << "module " << module << "() -> (";
  for (size_t v = 0; v < n; ++v)
    o << (v ? ", " : "") << out[v] << ": " << enumName[v];
  o << ") {\n";
  for (int v : *order) {
    const BnCpt& c = net.cpts[v];
    const size_t k = net.vars[v].states.size();
    if (c.parents.empty()) {
      o << "    " << idx[v] << " ~ Categorical([";
      for (size_t j = 0; j < k; ++j)
        o << (j ? ", " : "") << realLiteral(c.probs[j]);
      o << "]);\n";
    } else {
      o << "    let " << cpt[v] << " = [";
      for (size_t j = 0; j < c.probs.size(); ++j)
        o << (j ? ", " : "") << realLiteral(c.probs[j]);
      o << "];\n";
      o << "    let " << row[v] << " = ";
      size_t stride = 1;
      std::vector<std::string> terms;
      for (size_t j = c.parents.size(); j-- > 0;) {
        const int p = c.parents[j];
        terms.push_back(stride == 1 ? idx[p] : idx[p] + " * " + std::to_string(stride));
        stride *= net.vars[p].states.size();
      }
      std::reverse(terms.begin(), terms.end());
      for (size_t j = 0; j < terms.size(); ++j)
        o << (j ? " + " : "") << terms[j];
      o << ";\n";
      o << "    " << idx[v] << " ~ Categorical([";
      for (size_t j = 0; j < k; ++j) {
        o << (j ? ", " : "") << cpt[v] << "[" << row[v];
        if (k > 1) o << " * " << k;
        if (j > 0) o << " + " << j;
        o << "]";
      }
      o << "]);\n";
    }
    o << "    " << out[v] << " = ";
    for (size_t s = 0; s + 1 < k; ++s)
      o << "if " << idx[v] << " == " << s << " then " << enumName[v] << "." << states[v][s]
        << " else ";
    o << enumName[v] << "." << states[v][k - 1] << ";\n";
  }
  o << "}\n";
  return o.str();
}

} // namespace chassis::symbolic
