// `chassis check FILE [--emit=ast|ir|dot] [--json] [--data file.json] [--input name=value]...`:
// parse and type-check a .chs file and everything it imports; the data fixes the sizes written as
// an int input's name (`y: real[T]`), as it does for `run` and `infer`. Success: exit 0, print
// nothing (or, with --emit=ast, the checked AST dump on stdout; with --emit=ir, the program
// lowered to the core IR; with --emit=dot, the module call graph (spec/callgraph.h) as Graphviz
// DOT, networks as boxes).
// --json prints the report envelope (tools/json_report.h) with one result per module and network
// (name, kind, inputs and outputs with their types, the modules it calls) and per property
// (name, kind); errors as {"error": {...}} on standard output.
// Errors: every diagnostic on stderr (`file:line:col: error: message`, the source line and a
// caret), exit 2 (kUsage).
#include "tools/command.h"
#include "tools/json_report.h"

#include "spec/ast_printer.h"
#include "spec/callgraph.h"
#include "spec/frontend.h"
#include "spec/ir.h"
#include "spec/lower.h"

#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <unordered_set>

namespace {

using namespace chassis;
using ojson = nlohmann::ordered_json;

/// Each function's callees in first-call order, with the first call site (calls in statements
/// and, recursively, in expressions).
std::vector<std::pair<const ir::Function*, SourceLoc>> callees(const ir::Function& f) {
  std::vector<std::pair<const ir::Function*, SourceLoc>> out;
  std::set<const ir::Function*> seen;
  auto add = [&](const ir::Function* g, const SourceLoc& at) {
    if (seen.insert(g).second) out.push_back({g, at});
  };
  std::unordered_set<const ir::ExprNode*> visited;
  ir::forEachStmt(f.body(), [&](ir::Stmt s) {
    if (auto* c = s->as<ir::CallStmt>()) add(c->callee, s->loc());
    ir::forEachExpr(s, [&](ir::Expr root) {
      std::vector<ir::Expr> todo{root};
      while (!todo.empty()) {
        ir::Expr e = todo.back();
        todo.pop_back();
        if (!e || !visited.insert(e).second) continue;
        if (auto* c = e->as<ir::Call>()) add(&c->callee(), s->loc());
        for (ir::Expr o : e->operands())
          todo.push_back(o);
      }
    });
  });
  return out;
}

int checkCommand(const std::string& file, const std::string& emit, bool asJson,
                 const std::string& dataFile, const std::vector<std::string>& inputArgs) {
  spec::DiagnosticEngine diags;
  auto failDiags = [&]() {
    if (asJson) return tools::printJsonDiagnostics(diags, tools::kUsage);
    diags.print(std::cerr);
    return int(tools::kUsage);
  };
  // The sizes given by the data (`y: real[T]`): --data, then --input (which wins).
  spec::DataSizes sizes;
  if (!dataFile.empty()) {
    std::ifstream in(dataFile, std::ios::binary);
    if (!in) {
      diags.report(Error("cannot read data file '" + dataFile + "'"));
      return failDiags();
    }
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    diags.addSource(dataFile, text);
    auto read = spec::readDataSizes(text, dataFile);
    if (!read) {
      diags.report(read.error());
      return failDiags();
    }
    sizes = std::move(*read);
  }
  for (const std::string& arg : inputArgs)
    if (auto eq = arg.find('='); eq != std::string::npos)
      spec::addInputSize(sizes, arg.substr(0, eq), std::string_view(arg).substr(eq + 1));
  Expected<spec::Program> prog = spec::loadProgram(file, diags, &sizes);
  if (!prog) return failDiags();
  if (emit == "ast") {
    std::cout << spec::printProgram(*prog);
    return tools::kOk;
  }
  if (emit.empty() && !asJson) return tools::kOk;
  // ---- --emit=ir / dot, --json: the IR engineer's lowering (spec/lower.h) and printer
  // (spec/ir.h). Networks lower to External functions here (no loader: `check` does not read
  // them).
  Expected<ir::Program> lowered = ir::lower(*prog);
  if (!lowered) {
    diags.report(lowered.error());
    return failDiags();
  }
  if (emit == "ir") {
    ir::print(*lowered, std::cout);
    return tools::kOk;
  }
  std::map<const ir::Function*, std::vector<std::pair<const ir::Function*, SourceLoc>>> calls;
  for (auto& f : lowered->functions())
    calls[f.get()] = callees(*f);
  if (emit == "dot") {
    std::vector<const spec::CallableDecl*> nodes;
    for (auto& f : lowered->functions())
      if (const spec::CallableDecl* d = prog->findCallable(f->name())) nodes.push_back(d);
    std::vector<spec::CallEdge> edges;
    for (auto& [f, cs] : calls)
      for (auto& [g, at] : cs) {
        const spec::CallableDecl* a = prog->findCallable(f->name());
        const spec::CallableDecl* b = prog->findCallable(g->name());
        if (a && b) edges.push_back({a, b, at});
      }
    std::cout << spec::CallGraph(nodes, edges).dot();
    return tools::kOk;
  }
  // --json
  const ir::Context& ctx = lowered->ctx();
  ojson results = ojson::array();
  size_t modules = 0, networks = 0;
  for (auto& f : lowered->functions()) {
    const spec::CallableDecl* d = prog->findCallable(f->name());
    bool network = d && d->kind == spec::DeclKind::Network;
    (network ? networks : modules) += 1;
    ojson r;
    r[network ? "network" : "module"] = f->name();
    r["line"] = f->loc().line;
    ojson ins = ojson::array(), outs = ojson::array(), cs = ojson::array();
    for (const ir::Param& p : f->inputs()) {
      ojson i{{"name", p.var->name()}, {"type", ctx.typeName(p.var->type())}};
      if (p.range)
        i["range"] = {tools::jsonNumber(p.range->first), tools::jsonNumber(p.range->second)};
      ins.push_back(i);
    }
    for (const ir::Var* o : f->outputs())
      outs.push_back({{"name", o->name()}, {"type", ctx.typeName(o->type())}});
    for (auto& [g, at] : calls[f.get()])
      cs.push_back(g->name());
    r["inputs"] = ins;
    r["outputs"] = outs;
    r["calls"] = cs;
    r["random"] = f->isRandom();
    results.push_back(r);
  }
  for (const ir::Property& p : lowered->properties)
    results.push_back({{"property", p.name},
                       {"kind", std::string(ir::propertyKindName(p.kind))},
                       {"line", p.loc.line}});
  ojson summary{{"modules", modules},
                {"networks", networks},
                {"properties", lowered->properties.size()},
                {"errors", 0}};
  std::cout << tools::jsonText(tools::jsonEnvelope("check", file, ojson::object(), results, summary))
            << "\n";
  return tools::kOk;
}

chassis::tools::Registration reg{
    "check", "Parse and type-check a .chs file (and its imports)", [](CLI::App& app) {
      auto file = std::make_shared<std::string>();
      auto emit = std::make_shared<std::string>();
      auto data = std::make_shared<std::string>();
      auto inputs = std::make_shared<std::vector<std::string>>();
      auto json = std::make_shared<bool>(false);
      app.add_option("file", *file, "the .chs file")->required();
      app.add_option("--emit", *emit,
                     "print a stage: ast (the checked AST), ir (the core IR) or dot (the module "
                     "call graph as Graphviz DOT)")
          ->check(CLI::IsMember({"ast", "ir", "dot"}));
      app.add_flag("--json", *json,
                   "print the modules, networks and properties as JSON (errors as JSON too)");
      app.add_option("--data", *data, "a JSON object giving the sizes (int inputs) by name");
      app.add_option("--input", *inputs, "name=value: an int input that gives a size");
      return [file, emit, json, data, inputs]() -> int {
        if (*json && !emit->empty()) {
          std::cerr << "chassis check: error: --json and --emit each print the result; give "
                       "one\n";
          return tools::printJsonError(Error("--json and --emit each print the result; give one"),
                                       tools::kUsage);
        }
        return checkCommand(*file, *emit, *json, *data, *inputs);
      };
    }};

} // namespace
