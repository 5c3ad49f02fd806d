// Signatures (entry checkSignatures): every module's and network's parameters get their types
// (array lengths may be sizes from the run's data), are unique, and follow the network rules (at
// least one input and one output, all real or real arrays); inputs may have constant ranges,
// outputs may not.
#include "spec/check_context.h"

#include <string>
#include <unordered_map>

namespace chassis::spec::check {

namespace {

void checkSignature(CheckContext& ctx, CallableDecl& c) {
  std::unordered_map<std::string, const VarDecl*> seen;
  bool net = c.kind == DeclKind::Network;
  if (net && c.inputs.empty())
    ctx.error(c.loc, "network '" + c.name + "' must have at least one input");
  if (net && c.outputs.empty())
    ctx.error(c.loc, "network '" + c.name + "' must have at least one output");
  for (auto* list : {&c.inputs, &c.outputs})
    for (VarDecl* v : *list) {
      v->type = v->typeExpr ? resolveType(ctx, *v->typeExpr, &c) : Type::error();
      auto [it, fresh] = seen.emplace(v->name, v);
      if (!fresh)
        ctx.error(v->loc, "duplicate parameter '" + v->name + "' of " + callableWord(&c) + " '" +
                              c.name + "'");
      if (net && !v->type.isError() && v->type.kind != TypeKind::Real &&
          !(v->type.isArray() && v->type.elem == TypeKind::Real))
        ctx.error(v->typeExpr->loc, "network inputs and outputs must be real or real arrays; '" +
                                        v->name + "' is " + v->type.str());
      if (v->kind == VarKind::Output && v->rangeLo) {
        ctx.error(v->rangeLo->loc,
                  "output '" + v->name + "' cannot have a range (only inputs can)");
        continue;
      }
      checkRange(ctx, *v, "input");
    }
}

} // namespace

void checkSignatures(CheckContext& ctx) {
  for (CallableDecl* c : ctx.callables)
    checkSignature(ctx, *c);
}

} // namespace chassis::spec::check
