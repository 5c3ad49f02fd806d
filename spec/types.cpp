// Printing of .chs types (spec/types.h), as they are written in source and in diagnostics.
#include "spec/types.h"

#include "spec/ast.h"

namespace chassis::spec {

static std::string scalarName(TypeKind k, const EnumDecl* e) {
  switch (k) {
  case TypeKind::Bool:
    return "bool";
  case TypeKind::Int:
    return "int";
  case TypeKind::Real:
    return "real";
  case TypeKind::Enum:
    return e ? e->name : "<enum>";
  case TypeKind::Distribution:
    return "distribution";
  case TypeKind::Array:
    return "<array>";
  case TypeKind::Error:
    break;
  }
  return "<error>";
}

std::string Type::str() const {
  if (kind == TypeKind::Array && cols > 0)
    return scalarName(elem, enumDecl) + "[" + std::to_string(rows()) + ", " +
           std::to_string(cols) + "]";
  if (kind == TypeKind::Array)
    return scalarName(elem, enumDecl) + "[" + std::to_string(length) + "]";
  return scalarName(kind, enumDecl);
}

} // namespace chassis::spec
