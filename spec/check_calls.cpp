// The call graph (entry checkCallGraph): recursion is an error; Program::order gets a
// topological order; a module is random if it draws, observes, conditions or factors, or calls a
// random module (as the IR defines it), and weighted if it observes, conditions or factors, or
// calls a weighted module; properties may run random modules only through always / P / E.
#include "spec/check_context.h"

#include <set>
#include <utility>
#include <vector>

namespace chassis::spec::check {

namespace {

// Fills ctx.random and ctx.weighted (a fixpoint over the call edges, so cycles are harmless).
void classifyModules(CheckContext& ctx) {
  for (const CallableDecl* c : ctx.callables) {
    if (c->kind != DeclKind::Module) continue;
    bool draws = false, weighs = false;
    std::vector<const Stmt*> stack;
    for (auto& st : static_cast<const ModuleDecl*>(c)->body)
      stack.push_back(st.get());
    while (!stack.empty()) {
      const Stmt* st = stack.back();
      stack.pop_back();
      draws |= st->kind == StmtKind::Sample;
      weighs |= st->kind == StmtKind::Observe || st->kind == StmtKind::Condition ||
                st->kind == StmtKind::Factor;
      for (auto& b : st->body)
        stack.push_back(b.get());
      for (auto& b : st->elseBody)
        stack.push_back(b.get());
    }
    if (draws || weighs) ctx.random.insert(c);
    if (weighs) ctx.weighted.insert(c);
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (const CallEdge& e : ctx.edges) {
      if (ctx.random.count(e.callee)) changed |= ctx.random.insert(e.caller).second;
      if (ctx.weighted.count(e.callee)) changed |= ctx.weighted.insert(e.caller).second;
    }
  }
}

void checkRandomCallsInProperties(CheckContext& ctx) {
  const std::set<const CallableDecl*>& random = ctx.random;
  for (PropertyDecl* p : ctx.props) {
    if (ctx.badProps.count(p)) continue;
    // (expression, inside always/P/E)
    std::vector<std::pair<const Expr*, bool>> stack{{p->body.get(), false}};
    while (!stack.empty()) {
      auto [x, inQuery] = stack.back();
      stack.pop_back();
      if (x->kind == ExprKind::Call && x->callee && random.count(x->callee)) {
        if (inQuery)
          ctx.error(p->loc, "property '" + p->name +
                                "': a call of a random module inside always/P/E is not supported");
        else
          ctx.error(x->loc, "property '" + p->name + "' calls random module '" + x->callee->name +
                                "' inside forall/exists; use always[" + x->callee->name + "], P[" +
                                x->callee->name + "] or E[" + x->callee->name + "]");
        break;
      }
      bool q = inQuery || x->kind == ExprKind::Always || x->kind == ExprKind::Prob ||
               x->kind == ExprKind::Expect;
      for (auto it = x->args.rbegin(); it != x->args.rend(); ++it)
        if (*it) stack.push_back({it->get(), q});
    }
  }
}

} // namespace

void checkCallGraph(CheckContext& ctx) {
  std::vector<const CallableDecl*> nodes(ctx.callables.begin(), ctx.callables.end());
  CallGraph g(nodes, ctx.edges);
  bool acyclic = g.checkAcyclic(ctx.diags);
  ctx.prog.order = acyclic ? g.topologicalOrder() : nodes;
  classifyModules(ctx);
  if (acyclic) checkRandomCallsInProperties(ctx);
}

} // namespace chassis::spec::check
