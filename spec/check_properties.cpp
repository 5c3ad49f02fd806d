// Properties: each body typed by a BodyChecker (quantifiers and always / P / E queries are typed
// here), then held to the shapes the back ends take. Entry: checkProperties.
#include "spec/check_body.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace chassis::spec::check {

namespace {

// The shapes of properties the back ends take (spec/lower.h): `always[M](e)`; `P[M](..)` or
// `E[M](..)` compared (< <= > >=) with a constant number; or forall/exists binders around a
// body. Quantifiers, always, P and E appear nowhere else.
void checkPropertyShape(CheckContext& ctx, const Expr& body) {
  static const char* kTop = "quantifiers, always[], P[] and E[] are supported only at the top "
                            "of a property (P[] and E[] compared with a constant)";
  auto isPE = [](const Expr& x) { return x.kind == ExprKind::Prob || x.kind == ExprKind::Expect; };
  // The first (in source order) quantifier / always / P / E inside `e`, or null.
  auto nested = [](const Expr& e) -> const Expr* {
    std::vector<const Expr*> stack{&e};
    while (!stack.empty()) {
      const Expr* x = stack.back();
      stack.pop_back();
      if (x->kind == ExprKind::Quant || x->kind == ExprKind::Always || x->kind == ExprKind::Prob ||
          x->kind == ExprKind::Expect)
        return x;
      for (auto it = x->args.rbegin(); it != x->args.rend(); ++it)
        if (*it) stack.push_back(it->get());
    }
    return nullptr;
  };
  auto inside = [&](const Expr& q) {
    for (auto& a : q.args)
      if (a)
        if (const Expr* n = nested(*a)) return ctx.error(n->loc, kTop);
  };
  if (body.kind == ExprKind::Always) return inside(body);
  if (body.kind == ExprKind::Binary &&
      (body.binaryOp == BinaryOp::Lt || body.binaryOp == BinaryOp::Le ||
       body.binaryOp == BinaryOp::Gt || body.binaryOp == BinaryOp::Ge) &&
      (isPE(*body.args[0]) || isPE(*body.args[1]))) {
    const Expr& pe = isPE(*body.args[0]) ? *body.args[0] : *body.args[1];
    const Expr& bound = isPE(*body.args[0]) ? *body.args[1] : *body.args[0];
    std::string why;
    if (!constEval(bound, why))
      return ctx.error(bound.loc, "the bound of P[...] or E[...] must be a constant number");
    return inside(pe);
  }
  const Expr* b = &body;
  while (b->kind == ExprKind::Quant)
    b = b->args[0].get();
  if (const Expr* n = nested(*b)) ctx.error(n->loc, kTop);
}

} // namespace

void checkProperties(CheckContext& ctx) {
  BodyChecker bodies(ctx);
  for (PropertyDecl* p : ctx.props)
    bodies.checkProperty(*p);
}

void BodyChecker::checkProperty(PropertyDecl& p) {
  mod_ = nullptr;
  scopes_.assign(1, {});
  reportedUndefined_.clear();
  ctx_.suggestions = 0;
  size_t before = ctx_.diags.errorCount();
  Type t = expr(p.body);
  if (!t.isError() && t.kind != TypeKind::Bool)
    ctx_.error(p.body->loc, "property '" + p.name + "' must be a bool expression, got " + t.str());
  else if (!t.isError() && ctx_.diags.errorCount() == before) // no cascade after other errors
    checkPropertyShape(ctx_, *p.body);
  if (t.isError() || ctx_.diags.errorCount() != before) ctx_.badProps.insert(&p);
  scopes_.clear();
}

Type BodyChecker::quant(ExprPtr& e) {
  scopes_.emplace_back();
  for (const VarDecl* cv : e->quantVars) {
    auto* v = const_cast<VarDecl*>(cv); // owned by the property being checked
    const TypeExpr& te = *v->typeExpr;
    if (v->rangeLo) {
      v->type = Type::real();
      checkRange(ctx_, *v, "quantified variable");
    } else if (te.name == "bool") {
      v->type = Type::boolean();
    } else {
      auto g = ctx_.globals.find(te.name);
      if (g == ctx_.globals.end() || g->second->kind != DeclKind::Enum) {
        ctx_.error(te.loc, "unknown enum '" + te.name +
                               "' (quantify over '[lo, hi]', 'bool' or "
                               "an enum)");
        v->type = Type::error();
      } else {
        v->type = Type::enumeration(static_cast<EnumDecl*>(g->second));
      }
    }
    declare(v);
  }
  Type b = expr(e->args[0]);
  scopes_.pop_back();
  if (!b.isError() && b.kind != TypeKind::Bool)
    ctx_.error(e->args[0]->loc, std::string("the body of '") + (e->isExists ? "exists" : "forall") +
                                    "' must be bool, got " + b.str());
  return set(e, Type::boolean());
}

Type BodyChecker::modelQuery(ExprPtr& e) {
  const char* what = e->kind == ExprKind::Always ? "always" : e->kind == ExprKind::Prob ? "P" : "E";
  auto g = ctx_.globals.find(e->name);
  if (g == ctx_.globals.end() || g->second->kind != DeclKind::Module) {
    if (g != ctx_.globals.end() && g->second->kind == DeclKind::Network)
      ctx_.error(e->nameLoc,
                 std::string("'") + what + "[...]' needs a module; '" + e->name + "' is a network");
    else
      ctx_.error(e->nameLoc, "unknown module '" + e->name + "'");
    return set(e, Type::error());
  }
  auto* m = static_cast<ModuleDecl*>(g->second);
  e->callee = m;
  if (e->kind != ExprKind::Always && !m->inputs.empty()) {
    ctx_.error(e->nameLoc, std::string("'") + what + "[" + m->name +
                               "]' needs a module without inputs; '" + m->name + "' has " +
                               std::to_string(m->inputs.size()));
    return set(e, Type::error());
  }
  // The module's variables, visible inside; one named like an enclosing quantified variable
  // would silently hide it, so that is an error.
  std::unordered_map<std::string, VarDecl*> visible;
  for (VarDecl* v : m->inputs)
    visible.emplace(v->name, v);
  for (VarDecl* v : m->outputs)
    visible.emplace(v->name, v);
  for (auto& v : m->vars)
    if (v->topLevel) visible.emplace(v->name, v.get());
  for (auto& [n, v] : visible)
    if (VarDecl* q = lookupVar(n); q && q->kind == VarKind::Quantified)
      ctx_.error(q->loc, "quantified variable '" + n + "' is hidden by the variable '" + n +
                             "' of module '" + m->name + "' inside '" + what + "[" + m->name +
                             "]'; rename it");
  scopes_.push_back(std::move(visible));
  Type result = Type::boolean();
  for (size_t i = 0; i < e->args.size(); ++i) {
    Type t = expr(e->args[i]);
    if (t.isError()) {
      result = Type::error();
      continue;
    }
    if (e->kind == ExprKind::Expect) {
      if (!coerce(e->args[i], Type::real())) {
        ctx_.error(e->args[i]->loc, "'E[...]' needs a number, got " + t.str());
        result = Type::error();
      }
    } else if (t.kind != TypeKind::Bool) {
      ctx_.error(e->args[i]->loc, std::string("'") + what + "[...]' needs a bool " +
                                      (i == 0 ? "event" : "condition") + ", got " + t.str());
      result = Type::error();
    }
  }
  scopes_.pop_back();
  if (result.isError()) return set(e, result);
  return set(e, e->kind == ExprKind::Always ? Type::boolean() : Type::real());
}

} // namespace chassis::spec::check
