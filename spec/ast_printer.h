// A readable, deterministic text dump of a checked Program (`chassis check --emit=ast`): one line
// per declaration and statement, expressions fully parenthesised, every statement's expression
// followed by its type, variables with their kind and type, and the call graph's order. Used by
// tests and golden files, so the format only changes deliberately.
#pragma once

#include "spec/ast.h"

#include <string>

namespace chassis::spec {

std::string printExpr(const Expr& e);
std::string printProgram(const Program& p);

} // namespace chassis::spec
